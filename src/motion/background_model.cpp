#include "motion/background_model.hpp"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace sf {

BackgroundModel::BackgroundModel(int warmup_frames, double learning_rate)
    : warmup_frames_(std::max(1, warmup_frames)), learning_rate_(learning_rate) {}

void BackgroundModel::reset(const cv::Mat& grey) {
  grey.convertTo(background_, CV_32F);
  seen_ = 1;
}

void BackgroundModel::restart_from(const cv::Mat& grey) {
  int seen = seen_;
  reset(grey);
  seen_ = std::max(seen, 1);
}

void BackgroundModel::learn(const cv::Mat& grey) {
  if (background_.empty() || background_.size() != grey.size()) return reset(grey);
  ++seen_;
  // Warm-up: a plain mean of the first frames (weight 1/n), so that the start is learnt quickly.
  double rate = seen_ <= warmup_frames_ ? std::max(learning_rate_, 1.0 / seen_) : learning_rate_;
  cv::accumulateWeighted(grey, background_, rate);
}

cv::Mat BackgroundModel::image() const {
  cv::Mat out;
  background_.convertTo(out, CV_8U);
  return out;
}

}  // namespace sf
