#pragma once
// A worker's counters and its stream's state as Prometheus families (`sightflow worker --metrics`, and the
// streams `sightflow serve --redis` shows):
//   sightflow_worker_<counter>_total{stream, group, consumer}   processed, stored_new, claimed, acked,
//                                                                dead_lettered, skipped_old, trimmed,
//                                                                reconnects, became_owner, replayed,
//                                                                already_done
//   sightflow_worker_owner{stream, group, consumer}              ordered workers: 1 while it owns the stream
//   sightflow_bus_stream_length{stream}, sightflow_bus_dead_letters{stream}
//   sightflow_bus_group_{consumers,pending,lag}{stream, group},
//   sightflow_bus_group_oldest_pending_age_seconds
// A lag Redis cannot tell is left out rather than reported as a number.
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/metric_families.hpp"

namespace sf {

// `stream`: stream_stats_json().
void add_bus_stream_metrics(MetricFamilies& out, const nlohmann::json& stream);
// `worker`: FrameWorker::stats_json() of the worker reading `stream_name`.
void add_worker_metrics(MetricFamilies& out, const nlohmann::json& worker, const std::string& stream_name);

}  // namespace sf
