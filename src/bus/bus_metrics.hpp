#pragma once
// A worker's counters and its stream's state in Prometheus' text format (`sightflow worker --metrics`):
//   sightflow_worker_<counter>_total{stream, group, consumer}   processed, stored_new, claimed, acked,
//                                                                dead_lettered, skipped_old, trimmed,
//                                                                reconnects
//   sightflow_bus_stream_length{stream}, sightflow_bus_dead_letters{stream}
//   sightflow_bus_group_{consumers,pending,lag}{stream, group},
//   sightflow_bus_group_oldest_pending_age_seconds
// A lag Redis cannot tell is left out rather than reported as a number.
#include <nlohmann/json.hpp>
#include <string>

namespace sf {

// `worker`: FrameWorker::stats_json(); `stream`: stream_stats_json().
std::string worker_metrics_text(const nlohmann::json& worker, const nlohmann::json& stream);

}  // namespace sf
