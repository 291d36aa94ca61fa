#pragma once
// One algorithm run's result, as every sink receives it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sightflow/detection.hpp"
#include "sightflow/stage_times.hpp"

namespace sf {

// Something a stage noticed (a line crossed, a zone entered or left, a stay too long). The stream, algo,
// frame, pts and ts are those of the result that carries it.
struct Event {
  std::string type;  // "line" | "enter" | "exit" | "loiter" | a custom stage's own
  std::string name;  // the line's or zone's name
  std::optional<int64_t> track_id;
  std::string label;            // the tracked object's class
  std::string direction;        // lines: "in" | "out"
  std::optional<double> dwell;  // exit, loiter: media seconds inside
};

struct Result {
  std::string stream;
  std::string algo;
  int64_t frame = 0;      // sequence number of the newest frame the run used
  double pts = 0;         // its media time, seconds
  double ts = 0;          // unix time the result was produced
  double capture_ts = 0;  // unix time the newest frame was captured (latency = ts - capture_ts)
  std::vector<Detection> detections;
  std::vector<Classification> labels;
  nlohmann::json values = nlohmann::json::object();  // a custom algorithm's own outputs
  std::vector<Event> events;                         // added by stages (empty: none)
  // Summaries added by stages, each written as a top-level key of the JSON object (e.g. "lines":
  // {"door": {"in": 7, "out": 5}}, "zones": {"lawn": {"count": 3}}); keys must not clash with the fixed ones.
  nlohmann::json analytics = nlohmann::json::object();
  StageTimes times;
  cv::Mat image;  // the newest frame (shared, not copied), for annotating sinks
};

// A result that repeats an earlier one (motion skip mode sets values.motion.carried): no new sighting in
// it, so trackers, counters and datasets must not take it for one.
inline bool is_carried(const Result& result) {
  const auto motion = result.values.find("motion");
  if (motion == result.values.end() || !motion->is_object()) return false;
  const auto carried = motion->find("carried");
  return carried != motion->end() && carried->is_boolean() && carried->get<bool>();
}

// The JSON Lines object: {"stream","algo","frame","pts","ts","count","detections":[{label,score,box}]}
// plus "labels" for classifiers, "values" for custom outputs, "events" and the analytics keys when present.
nlohmann::ordered_json to_json(const Result& result);
// One detection as it appears there: {"label","score","box":[x,y,w,h]} (+ "track_id", "landmarks").
nlohmann::ordered_json to_json(const Detection& detection);
// One event with its result's context: {"stream","algo","type","name","track_id","label","direction",
// "dwell","frame","pts","ts"} (track_id, label, direction and dwell only when set).
nlohmann::ordered_json to_json(const Event& event, const Result& result);
Event event_from_json(const nlohmann::json& json);
// The inverse of to_json(Result) (no times, no image); throws std::invalid_argument naming what is wrong.
Result result_from_json(const nlohmann::json& json);

}  // namespace sf
