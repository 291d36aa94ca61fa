#include <cmath>
#include <map>

#include "sightflow/store.hpp"

namespace sf {

std::vector<RollupSample> rollup_samples(const Result& result) {
  std::map<std::string, int64_t> per_label;
  for (const auto& d : result.detections) ++per_label[d.label];
  std::vector<RollupSample> samples{{"*", int64_t(result.detections.size())}};
  for (auto& [label, count] : per_label) samples.push_back({label, count});
  return samples;
}

std::vector<LineRollupSample> line_rollup_samples(const Result& result) {
  // Crossings come from the events (exact per result); the lines come from "lines", so a result without
  // crossings still adds a zero sample and the series has no holes.
  std::map<std::string, LineRollupSample> per_line;
  if (auto lines = result.analytics.find("lines"); lines != result.analytics.end() && lines->is_object())
    for (const auto& [name, totals] : lines->items()) per_line[name].line = name;
  for (const auto& e : result.events) {
    if (e.type != "line") continue;
    auto& sample = per_line[e.name];
    sample.line = e.name;
    if (e.direction == "in") ++sample.in;
    if (e.direction == "out") ++sample.out;
  }
  std::vector<LineRollupSample> out;
  for (auto& [name, sample] : per_line) out.push_back(std::move(sample));
  return out;
}

std::vector<ZoneRollupSample> zone_rollup_samples(const Result& result) {
  std::vector<ZoneRollupSample> out;
  if (auto zones = result.analytics.find("zones"); zones != result.analytics.end() && zones->is_object())
    for (const auto& [name, zone] : zones->items())
      if (zone.is_object()) out.push_back({name, zone.value("count", int64_t(0))});
  return out;
}

double bucket_start(double ts, double level_seconds) {
  return std::floor(ts / level_seconds) * level_seconds;
}

}  // namespace sf
