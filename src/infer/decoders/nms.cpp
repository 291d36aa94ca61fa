#include <algorithm>
#include <cmath>

#include "infer/decoders/decoders.hpp"

namespace sf {
namespace {

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

}  // namespace

// Greedy NMS as cv::dnn::NMSBoxes does it (a box is dropped when its IoU with a kept, higher-scoring box
// of the same class exceeds the threshold), done once over all classes: since kept boxes come out in
// global score order, max_detections can stop the scan early.
std::vector<Detection> non_max_suppression(std::vector<Detection> detections, float iou_threshold,
                                           bool class_agnostic, size_t max_detections) {
  // A NaN score would break the sort's ordering; such a detection is meaningless anyway.
  std::erase_if(detections, [](const Detection& d) { return std::isnan(d.score); });
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (Detection& d : detections) {
    if (max_detections > 0 && kept.size() >= max_detections) break;
    bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return (class_agnostic || k.class_id == d.class_id) && iou(k.box, d.box) > iou_threshold;
    });
    if (!suppressed) kept.push_back(std::move(d));
  }
  return kept;
}

}  // namespace sf
