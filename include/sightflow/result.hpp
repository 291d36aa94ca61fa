#pragma once
// One algorithm run's result, as every sink receives it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "sightflow/detection.hpp"
#include "sightflow/stage_times.hpp"

namespace sf {

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
  StageTimes times;
  cv::Mat image;  // the newest frame (shared, not copied), for annotating sinks
};

// The JSON Lines object: {"stream","algo","frame","pts","ts","count","detections":[{label,score,box}]}
// plus "labels" for classifiers and "values" for custom outputs when present.
nlohmann::ordered_json to_json(const Result& result);
// One detection as it appears there: {"label","score","box":[x,y,w,h]} (+ "landmarks").
nlohmann::ordered_json to_json(const Detection& detection);
// The inverse of to_json(Result) (no times, no image); throws std::invalid_argument naming what is wrong.
Result result_from_json(const nlohmann::json& json);

}  // namespace sf
