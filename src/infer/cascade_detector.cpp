#include "infer/cascade_detector.hpp"

#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace sf {

CascadeDetector::CascadeDetector(const CascadeParams& params) : params_(params) {
  if (!std::filesystem::exists(params_.file)) {
    throw std::invalid_argument("cascade file not found: " + params_.file +
                                " (install Debian's opencv-data, or pass params file=PATH)");
  }
  if (!cascade_.load(params_.file)) throw std::invalid_argument("cannot load cascade file " + params_.file);
  info_.name = params_.label;
  info_.task = ModelTask::Detection;
  info_.max_batch = 1;
  info_.class_names = {params_.label};
}

std::vector<ModelOutput> CascadeDetector::infer(std::span<const cv::Mat> images, StageTimes* times) {
  std::vector<ModelOutput> outputs;
  for (const auto& image : images) {
    Stopwatch watch;
    cv::Mat grey;
    if (image.channels() == 1) {
      grey = image.clone();
    } else {
      cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
    }
    if (params_.upscale != 1.0) cv::resize(grey, grey, cv::Size(), params_.upscale, params_.upscale);
    cv::equalizeHist(grey, grey);  // cascades were trained on equalised crops
    double resize_s = watch.lap();
    std::vector<cv::Rect> found;
    std::vector<int> reject_levels;
    std::vector<double> level_weights;
    auto scaled = [&](int px) { return int(px * params_.upscale); };
    cascade_.detectMultiScale(grey, found, reject_levels, level_weights, params_.scale_factor,
                              params_.min_neighbors, 0,
                              cv::Size(scaled(params_.min_size), scaled(params_.min_size)),
                              cv::Size(scaled(params_.max_size), scaled(params_.max_size)), true);
    double model_s = watch.lap();
    ModelOutput out;
    float inv = float(1.0 / params_.upscale);
    for (size_t i = 0; i < found.size(); ++i) {
      cv::Rect2f box(found[i].x * inv, found[i].y * inv, found[i].width * inv, found[i].height * inv);
      // The level weight is the last stage's sum: a confidence, not a probability; mapped to (0, 1).
      double w = i < level_weights.size() ? level_weights[i] : 1.0;
      float score = float(1.0 / (1.0 + std::exp(-w)));
      out.detections.push_back({params_.label, 0, score, box, {}, {}});
    }
    outputs.push_back(std::move(out));
    if (times) {
      times->resize += resize_s;
      times->model += model_s;
      times->post += watch.lap();
    }
  }
  return outputs;
}

}  // namespace sf
