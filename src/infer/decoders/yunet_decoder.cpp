#include <stdexcept>
#include <string>

#include "infer/decoders/decoders.hpp"

namespace sf {

std::vector<Detection> decode_yunet(const cv::Mat& faces, float score_threshold) {
  std::vector<Detection> detections;
  if (faces.empty()) return detections;  // FaceDetectorYN returns an empty Mat when it finds nothing
  if (faces.type() != CV_32FC1 || faces.dims != 2 || faces.cols != 15) {
    throw std::invalid_argument("yunet decoder: expected N x 15 CV_32F faces, got " +
                                std::to_string(faces.cols) + " columns");
  }
  for (int r = 0; r < faces.rows; ++r) {
    const float* row = faces.ptr<float>(r);
    if (!(row[14] >= score_threshold)) continue;
    Detection d{"", 0, row[14], cv::Rect2f(row[0], row[1], row[2], row[3]), {}, {}};
    d.landmarks.reserve(5);
    for (int i = 0; i < 5; ++i) d.landmarks.emplace_back(row[4 + 2 * i], row[5 + 2 * i]);
    detections.push_back(std::move(d));
  }
  return detections;
}

}  // namespace sf
