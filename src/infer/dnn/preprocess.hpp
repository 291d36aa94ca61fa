#pragma once
// Pre-processing for DNN models (PreprocessSpec, from the catalog) and the mapping of boxes found on the
// network input back to source pixels.
#include <opencv2/core.hpp>
#include <span>

#include "sightflow/model_catalog.hpp"

namespace sf {

// Network-input pixels -> source pixels: source = (p - offset) / scale, per axis.
struct InputTransform {
  float scale_x = 1, scale_y = 1, offset_x = 0, offset_y = 0;
  cv::Point2f to_source(cv::Point2f p) const;
  // Maps a box and clips it to the source image (a box fully outside becomes empty).
  cv::Rect2f to_source(const cv::Rect2f& box, cv::Size source) const;
};

// Resizes / pads / crops one BGR 8-bit image to spec.input (still BGR, 8-bit) and says how to map back.
cv::Mat prepare_image(const cv::Mat& bgr, const PreprocessSpec& spec, InputTransform* transform);

// Stacks prepared images into one NCHW float blob with channel order, scale, mean and std applied.
cv::Mat make_blob(std::span<const cv::Mat> prepared, const PreprocessSpec& spec);

}  // namespace sf
