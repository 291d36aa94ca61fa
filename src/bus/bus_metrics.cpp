#include "bus/bus_metrics.hpp"

#include <sstream>

namespace sf {

namespace {

// Label values escape backslash, double quote and newline (the exposition format's rule).
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return "\"" + out + "\"";
}

void family(std::ostringstream& out, const std::string& name, const char* type, const std::string& help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

}  // namespace

std::string worker_metrics_text(const nlohmann::json& worker, const nlohmann::json& stream) {
  std::ostringstream out;
  auto stream_name = stream.value("stream", std::string());
  auto worker_labels = "{stream=" + label(stream_name) + ",group=" + label(worker.value("group", "")) +
                       ",consumer=" + label(worker.value("consumer", "")) + "}";
  const std::pair<const char*, const char*> counters[] = {
      {"processed", "Frames the algorithm ran on."},
      {"stored_new", "Results new to the results store."},
      {"claimed", "Entries taken over from consumers that stopped."},
      {"acked", "Entries acknowledged."},
      {"dead_lettered", "Messages moved to the dead-letter stream."},
      {"skipped_old", "Frames skipped as older than --max-age."},
      {"trimmed", "Pending entries trimmed from the stream before they were handled."},
      {"reconnects", "Reconnections to Redis."}};
  for (const auto& [key, help] : counters) {
    auto name = std::string("sightflow_worker_") + key + "_total";
    family(out, name, "counter", help);
    out << name << worker_labels << " " << worker.value(key, int64_t(0)) << "\n";
  }
  auto stream_labels = "{stream=" + label(stream_name) + "}";
  family(out, "sightflow_bus_stream_length", "gauge", "Entries in the frames stream.");
  out << "sightflow_bus_stream_length" << stream_labels << " " << stream.value("length", int64_t(0)) << "\n";
  family(out, "sightflow_bus_dead_letters", "gauge", "Entries in the dead-letter stream.");
  out << "sightflow_bus_dead_letters" << stream_labels << " " << stream.value("dead_letters", int64_t(0))
      << "\n";
  const std::pair<const char*, const char*> gauges[] = {
      {"consumers", "Consumers of the group."},
      {"pending", "Entries delivered to the group and not yet acknowledged."},
      {"lag", "Entries not yet delivered to the group."},
      {"oldest_pending_age_s", "Age of the group's oldest pending entry."}};
  for (const auto& [key, help] : gauges) {
    std::string name = std::string("sightflow_bus_group_") +
                       (std::string(key) == "oldest_pending_age_s" ? "oldest_pending_age_seconds" : key);
    family(out, name, "gauge", help);
    for (const auto& g : stream.value("groups", nlohmann::json::array())) {
      if (!g.contains(key) || g[key].is_null()) continue;
      out << name << "{stream=" << label(stream_name) << ",group=" << label(g.value("group", "")) << "} "
          << g[key].dump() << "\n";
    }
  }
  return out.str();
}

}  // namespace sf
