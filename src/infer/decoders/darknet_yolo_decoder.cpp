#include <stdexcept>
#include <string>

#include "infer/decoders/decoders.hpp"
#include "infer/decoders/tensor_rows.hpp"

namespace sf {
std::vector<Detection> decode_darknet_yolo(const std::vector<cv::Mat>& outputs, cv::Size input,
                                           float score_threshold, bool scores_include_objectness) {
  std::vector<Detection> detections;
  const float in_w = float(input.width), in_h = float(input.height);
  for (const cv::Mat& output : outputs) {
    if (output.empty()) continue;
    cv::Mat m = tensor_rows(output, "darknet-yolo");
    if (m.cols < 6) {
      throw std::invalid_argument("darknet-yolo decoder: rows need 5 + C >= 6 columns, got " +
                                  std::to_string(m.cols));
    }
    const int classes = m.cols - 5;
    for (int r = 0; r < m.rows; ++r) {
      const float* row = m.ptr<float>(r);
      int best = 0;
      for (int c = 1; c < classes; ++c) {
        if (row[5 + c] > row[5 + best]) best = c;
      }
      float score = scores_include_objectness ? row[5 + best] : row[4] * row[5 + best];
      if (!(score >= score_threshold)) continue;
      float w = row[2] * in_w, h = row[3] * in_h;
      float x = row[0] * in_w - w / 2, y = row[1] * in_h - h / 2;
      detections.push_back({"", best, score, cv::Rect2f(x, y, w, h), {}, {}});
    }
  }
  return detections;
}

}  // namespace sf
