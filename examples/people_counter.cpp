// A custom algorithm in ~30 lines: count people with the built-in HOG model and report whether the scene is
// "crowded". Build: part of the project (target people_counter_example). Run: people_counter_example [video]
#include <iostream>

#include "sightflow/pipeline.hpp"

class CrowdAlgorithm : public sf::Algorithm {
 public:
  void init() override { model_ = sf::create_model("hog"); }
  sf::AlgorithmOutput run(std::span<const sf::Frame> frames, sf::StageTimes& times) override {
    const cv::Mat& image = frames.back().image;
    sf::AlgorithmOutput out;
    out.detections = model_->infer(std::span(&image, 1), &times).at(0).detections;
    out.values["crowded"] = out.detections.size() >= 5;
    return out;
  }

 private:
  std::unique_ptr<sf::Model> model_;
};

int main(int argc, char** argv) {
  sf::Pipeline pipeline;
  pipeline.add_stream(argc > 1 ? argv[1] : SIGHTFLOW_DEFAULT_VIDEO, {.name = "cam", .target_fps = 1});
  pipeline.add_algorithm("crowd", [] { return std::make_unique<CrowdAlgorithm>(); });
  pipeline.add_sink(sf::make_jsonl_sink("-", true));
  pipeline.run();
}
