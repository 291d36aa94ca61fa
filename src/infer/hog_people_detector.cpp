#include "infer/hog_people_detector.hpp"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace sf {

cv::Rect2f hog_box_to_source(const cv::Rect& found, const HogParams& p, const cv::Size& source_size) {
  float inv = float(1.0 / p.upscale);
  float x = float(found.x) * inv, y = float(found.y) * inv;
  float w = float(found.width) * inv, h = float(found.height) * inv;
  float dx = float(p.shrink_x) * w, dy = float(p.shrink_y) * h;
  cv::Rect2f body(x + dx, y + dy, w - 2 * dx, h - 2 * dy);
  return body & cv::Rect2f(0, 0, float(source_size.width), float(source_size.height));
}

HogPeopleDetector::HogPeopleDetector(const HogParams& params) : params_(params) {
  info_.name = "hog";
  info_.task = ModelTask::Detection;
  info_.max_batch = 1;
  info_.class_names = {"person"};
  hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
}

std::vector<ModelOutput> HogPeopleDetector::infer(std::span<const cv::Mat> images, StageTimes* times) {
  std::vector<ModelOutput> outputs;
  outputs.reserve(images.size());
  for (const auto& image : images) {
    Stopwatch watch;
    cv::Mat scaled;
    if (params_.upscale != 1.0) {
      cv::resize(image, scaled, cv::Size(), params_.upscale, params_.upscale, cv::INTER_LINEAR);
    } else {
      scaled = image;
    }
    double resize_s = watch.lap();
    std::vector<cv::Rect> found;
    std::vector<double> weights;
    hog_.detectMultiScale(scaled, found, weights, params_.hit_threshold,
                          cv::Size(params_.win_stride, params_.win_stride),
                          cv::Size(params_.padding, params_.padding), params_.scale, params_.group_threshold);
    double model_s = watch.lap();
    ModelOutput out;
    for (size_t i = 0; i < found.size(); ++i) {
      float score = i < weights.size() ? float(weights[i]) : 1.f;
      if (score < params_.min_score) continue;
      cv::Rect2f box = hog_box_to_source(found[i], params_, image.size());
      if (box.area() <= 0) continue;
      out.detections.push_back({"person", 0, score, box, {}, {}});
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
