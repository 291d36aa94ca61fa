#include <cmath>
#include <stdexcept>

#include "infer/decoders/decoders.hpp"

namespace sf {

std::vector<Detection> decode_ssd(const cv::Mat& detection_out, int image_index, cv::Size input,
                                  float score_threshold, int class_offset) {
  std::vector<Detection> detections;
  if (detection_out.empty()) return detections;
  if (detection_out.depth() != CV_32F || detection_out.channels() != 1 || detection_out.total() % 7 != 0) {
    throw std::invalid_argument("ssd decoder: expected a CV_32F [1, 1, K, 7] tensor");
  }
  // Only the K x 7 layout matters; the leading 1 x 1 is dropped.
  cv::Mat m = detection_out.isContinuous() ? detection_out : detection_out.clone();
  const int k = int(m.total() / 7);
  const float* data = m.ptr<float>();
  const float in_w = float(input.width), in_h = float(input.height);
  for (int i = 0; i < k; ++i) {
    const float* row = data + 7 * i;
    // DetectionOutput pads unused rows with image_id -1, which never matches.
    if (std::lround(row[0]) != image_index) continue;
    float score = row[2];
    if (!(score >= score_threshold)) continue;
    int class_id = int(std::lround(row[1])) - class_offset;
    if (class_id < 0) continue;  // background
    float x1 = row[3] * in_w, y1 = row[4] * in_h, x2 = row[5] * in_w, y2 = row[6] * in_h;
    detections.push_back({"", class_id, score, cv::Rect2f(x1, y1, x2 - x1, y2 - y1), {}, {}});
  }
  return detections;
}

}  // namespace sf
