#include <cmath>
#include <stdexcept>
#include <string>

#include "infer/decoders/decoders.hpp"
#include "infer/decoders/tensor_rows.hpp"

namespace sf {
std::vector<Detection> decode_yolox(const cv::Mat& rows, cv::Size input, const std::vector<int>& strides,
                                    float score_threshold) {
  std::vector<Detection> detections;
  cv::Mat m = tensor_rows(rows, "yolox");
  if (m.cols < 6) {
    throw std::invalid_argument("yolox decoder: rows need 5 + C >= 6 columns, got " + std::to_string(m.cols));
  }
  int expected = 0;
  for (int s : strides) {
    if (s <= 0) throw std::invalid_argument("yolox decoder: strides must be positive");
    expected += (input.height / s) * (input.width / s);
  }
  if (m.rows != expected) {
    throw std::invalid_argument("yolox decoder: expected " + std::to_string(expected) + " rows for a " +
                                std::to_string(input.width) + "x" + std::to_string(input.height) +
                                " input, got " + std::to_string(m.rows));
  }
  const int classes = m.cols - 5;
  int r = 0;
  for (int s : strides) {
    const int gw = input.width / s, gh = input.height / s;
    for (int gy = 0; gy < gh; ++gy) {
      for (int gx = 0; gx < gw; ++gx, ++r) {
        const float* row = m.ptr<float>(r);
        // obj is common to all classes of the row, so the best class score alone picks the class.
        int best = 0;
        for (int c = 1; c < classes; ++c) {
          if (row[5 + c] > row[5 + best]) best = c;
        }
        float score = row[4] * row[5 + best];
        if (!(score >= score_threshold)) continue;
        float cx = (row[0] + float(gx)) * float(s), cy = (row[1] + float(gy)) * float(s);
        float w = std::exp(row[2]) * float(s), h = std::exp(row[3]) * float(s);
        detections.push_back({"", best, score, cv::Rect2f(cx - w / 2, cy - h / 2, w, h), {}, {}});
      }
    }
  }
  return detections;
}

}  // namespace sf
