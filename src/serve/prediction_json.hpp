#pragma once
// A model's output as TorchServe's handlers answer: detection, a list of {"label", "score", "box":
// [x, y, w, h]} (plus "landmarks" for faces); classification, {"label": probability, ...} best first.
#include <nlohmann/json.hpp>

#include "sightflow/model.hpp"

namespace sf {

nlohmann::ordered_json prediction_json(const ModelOutput& output, ModelTask task);

}  // namespace sf
