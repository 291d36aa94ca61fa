#include <stdexcept>

#include "sightflow/algorithm.hpp"

namespace sf {

DetectorAlgorithm::DetectorAlgorithm(std::string model_name, ModelParams params,
                                     std::set<std::string> classes, float min_score)
    : model_name_(std::move(model_name)),
      params_(std::move(params)),
      classes_(std::move(classes)),
      min_score_(min_score),
      model_(create_model(model_name_, params_)) {}  // built here so bad names or params fail before start

void DetectorAlgorithm::init() {}

AlgorithmOutput DetectorAlgorithm::run(std::span<const Frame> frames, StageTimes& times) {
  if (frames.empty()) throw std::invalid_argument("detector run without frames");
  const cv::Mat& image = frames.back().image;
  auto outputs = model_->infer(std::span<const cv::Mat>(&image, 1), &times);
  AlgorithmOutput out;
  for (auto& d : outputs.at(0).detections) {
    if (d.score < min_score_) continue;
    if (!classes_.empty() && !classes_.count(d.label)) continue;
    out.detections.push_back(std::move(d));
  }
  out.labels = std::move(outputs.at(0).labels);
  return out;
}

}  // namespace sf
