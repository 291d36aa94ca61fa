#pragma once
// What models produce: boxes with labels, or class labels with probabilities.
#include <cstdint>
#include <opencv2/core/types.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sf {

struct Detection {
  std::string label;
  int class_id = 0;
  float score = 0.f;
  cv::Rect2f box;                      // x, y, w, h in source-image pixels
  std::vector<cv::Point2f> landmarks;  // optional keypoints (faces), source pixels
  std::optional<int64_t> track_id =
      std::nullopt;  // identity given by a tracking stage, unique per stream and algorithm
};

struct Classification {
  std::string label;
  int class_id = 0;
  float score = 0.f;
};

// The typed output of one model call on one image.
struct ModelOutput {
  std::vector<Detection> detections;
  std::vector<Classification> labels;
};

}  // namespace sf
