#include "web/web_metrics.hpp"

#include <map>

namespace sf {

namespace {

// From the totals in each algorithm's newest result: the stages count from the stream's start, so the
// crossings only grow (a restarted stream starts again at 0, which Prometheus reads as a reset).
void add_counting_metrics(MetricFamilies& out, const LiveView& live, const std::string& stream) {
  std::map<std::pair<std::string, std::string>, int64_t> crossings;  // (line, direction)
  std::map<std::string, int64_t> occupancy;
  for (const auto& result : live.latest_results(stream)) {
    if (auto lines = result.find("lines"); lines != result.end() && lines->is_object())
      for (const auto& [line, totals] : lines->items())
        for (const char* direction : {"in", "out"})
          crossings[{line, direction}] += totals.value(direction, int64_t(0));
    if (auto zones = result.find("zones"); zones != result.end() && zones->is_object())
      for (const auto& [zone, z] : zones->items()) occupancy[zone] += z.value("count", int64_t(0));
  }
  for (const auto& [key, count] : crossings)
    out.counter("sightflow_line_crossings_total", "Tracks that crossed the line, per direction.",
                {{"stream", stream}, {"line", key.first}, {"direction", key.second}}, double(count));
  for (const auto& [zone, count] : occupancy)
    out.gauge("sightflow_zone_occupancy", "Tracks counted inside the zone in the newest result.",
              {{"stream", stream}, {"zone", zone}}, double(count));
}

}  // namespace

void add_live_view_metrics(MetricFamilies& out, const LiveView& live) {
  for (const auto& stream : live.streams()) {
    out.gauge("sightflow_video_viewers", "MJPEG viewers watching the stream.", {{"stream", stream}},
              live.viewers(stream));
    for (const auto& algo : live.history().algorithms(stream))
      if (int count = live.latest_count(stream, algo); count >= 0)
        out.gauge("sightflow_latest_detections", "Detections in the newest result (people counted now).",
                  {{"stream", stream}, {"algo", algo}}, count);
    add_counting_metrics(out, live, stream);
  }
}

}  // namespace sf
