#pragma once
// A running average of the blurred grey frame (cv::accumulateWeighted): the scene without what moves.
// Not thread-safe: one per stream.
#include <opencv2/core/mat.hpp>

namespace sf {

class BackgroundModel {
 public:
  // warmup_frames: frames averaged with equal weight before learning_rate takes over.
  BackgroundModel(int warmup_frames, double learning_rate);
  // Learns `grey` (CV_8U) into the background; the first frame, or one of another size, starts afresh.
  void learn(const cv::Mat& grey);
  // Forgets the past and starts from `grey`, warming up again.
  void reset(const cv::Mat& grey);
  // After a global change (light switched, camera moved): the new frame is the background at once and
  // stays trusted, since a static scene's single frame is a fair background.
  void restart_from(const cv::Mat& grey);
  bool warmed_up() const { return seen_ > warmup_frames_; }  // the first warmup_frames are not trusted
  bool empty() const { return background_.empty(); }
  cv::Size size() const { return background_.size(); }
  // The background as CV_8U, for differencing.
  cv::Mat image() const;

 private:
  int warmup_frames_;
  double learning_rate_;
  int seen_ = 0;
  cv::Mat background_;  // CV_32F
};

}  // namespace sf
