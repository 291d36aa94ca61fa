#include <stdexcept>

#include "sightflow/algorithm.hpp"

namespace sf {

DetectorAlgorithm::DetectorAlgorithm(std::shared_ptr<Model> model, std::set<std::string> classes,
                                     float min_score)
    : model_(std::move(model)), classes_(std::move(classes)), min_score_(min_score) {}

DetectorAlgorithm::DetectorAlgorithm(const std::string& model_name, const ModelParams& params,
                                     std::set<std::string> classes, float min_score)
    : DetectorAlgorithm(std::shared_ptr<Model>(create_model(model_name, params)), std::move(classes),
                        min_score) {}

AlgorithmOutput DetectorAlgorithm::run(std::span<const Frame> frames, StageTimes& times) {
  return run_prepared(frames, nullptr, times);
}

Prepared DetectorAlgorithm::prepare(std::span<const Frame> frames, StageTimes& times) const {
  if (frames.empty()) return nullptr;
  return model_->prepare(frames.back().image, &times);
}

AlgorithmOutput DetectorAlgorithm::run_prepared(std::span<const Frame> frames, const Prepared& prepared,
                                                StageTimes& times) {
  if (frames.empty()) throw std::invalid_argument("detector run without frames");
  const cv::Mat& image = frames.back().image;
  auto outputs = model_->infer_prepared(std::span<const cv::Mat>(&image, 1),
                                        std::span<const Prepared>(&prepared, 1), &times);
  AlgorithmOutput out;
  for (auto& d : outputs.at(0).detections) {
    if (d.score < min_score_) continue;
    if (!classes_.empty() && !classes_.count(d.label)) continue;
    out.detections.push_back(std::move(d));
  }
  for (auto& c : outputs.at(0).labels) {
    if (c.score < min_score_) continue;
    if (!classes_.empty() && !classes_.count(c.label)) continue;
    out.labels.push_back(std::move(c));
  }
  return out;
}

}  // namespace sf
