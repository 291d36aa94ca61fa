#include "bus/bus_metrics.hpp"

namespace sf {

void add_worker_metrics(MetricFamilies& out, const nlohmann::json& worker, const std::string& stream_name) {
  MetricLabels labels{{"stream", stream_name},
                      {"group", worker.value("group", "")},
                      {"consumer", worker.value("consumer", "")}};
  const std::pair<const char*, const char*> counters[] = {
      {"processed", "Frames the algorithm ran on."},
      {"stored_new", "Results new to the results store."},
      {"claimed", "Entries taken over from consumers that stopped."},
      {"acked", "Entries acknowledged."},
      {"dead_lettered", "Messages moved to the dead-letter stream."},
      {"skipped_old", "Frames skipped as older than --max-age."},
      {"trimmed", "Pending entries trimmed from the stream before they were handled."},
      {"reconnects", "Reconnections to Redis."},
      {"groups_recreated",
       "Times the consumer group was gone (Redis restarted without persistence) and made again."},
      {"became_owner", "Times the worker took the stream's lease (stages across workers)."},
      {"replayed", "Logged stage inputs replayed to rebuild the stages."},
      {"already_done", "Frames acknowledged without processing: the stages had seen them."}};
  for (const auto& [key, help] : counters)
    out.counter(std::string("sightflow_worker_") + key + "_total", help, labels,
                double(worker.value(key, int64_t(0))));
  if (worker.contains("owner"))
    out.gauge("sightflow_worker_owner", "1 while the worker owns the stream (stages across workers).", labels,
              worker["owner"].get<bool>() ? 1.0 : 0.0);
}

void add_bus_stream_metrics(MetricFamilies& out, const nlohmann::json& stream) {
  auto stream_name = stream.value("stream", std::string());
  out.gauge("sightflow_bus_stream_length", "Entries in the frames stream.", {{"stream", stream_name}},
            double(stream.value("length", int64_t(0))));
  out.gauge("sightflow_bus_dead_letters", "Entries in the dead-letter stream.", {{"stream", stream_name}},
            double(stream.value("dead_letters", int64_t(0))));
  const std::pair<const char*, const char*> gauges[] = {
      {"consumers", "Consumers of the group."},
      {"pending", "Entries delivered to the group and not yet acknowledged."},
      {"lag", "Entries not yet delivered to the group."},
      {"oldest_pending_age_s", "Age of the group's oldest pending entry."}};
  for (const auto& [key, help] : gauges) {
    std::string name = std::string("sightflow_bus_group_") +
                       (std::string(key) == "oldest_pending_age_s" ? "oldest_pending_age_seconds" : key);
    for (const auto& g : stream.value("groups", nlohmann::json::array())) {
      if (!g.contains(key) || g[key].is_null()) continue;
      out.gauge(name, help, {{"stream", stream_name}, {"group", g.value("group", "")}}, g[key].get<double>());
    }
  }
}

}  // namespace sf
