#include "serve/prediction_json.hpp"

#include <cmath>

#include "sightflow/result.hpp"

namespace sf {

nlohmann::ordered_json prediction_json(const ModelOutput& output, ModelTask task) {
  if (task == ModelTask::Classification) {
    nlohmann::ordered_json labels = nlohmann::ordered_json::object();
    for (const auto& c : output.labels) labels[c.label] = std::round(double(c.score) * 1e6) / 1e6;
    return labels;
  }
  nlohmann::ordered_json detections = nlohmann::ordered_json::array();
  for (const auto& d : output.detections) detections.push_back(to_json(d));
  return detections;
}

}  // namespace sf
