#pragma once
// Detection heads come as [R, N] or [1, R, N] float tensors; decoders read them as R rows of N values.
#include <opencv2/core/mat.hpp>
#include <stdexcept>
#include <string>

namespace sf {

// Views the tensor as rows (copying only when it is not continuous); `decoder` names the caller in errors.
inline cv::Mat tensor_rows(const cv::Mat& tensor, const std::string& decoder) {
  if (tensor.depth() != CV_32F || tensor.channels() != 1)
    throw std::invalid_argument(decoder + " decoder: expected a CV_32F tensor");
  cv::Mat m = tensor.isContinuous() ? tensor : tensor.clone();
  if (m.dims == 2) return m;
  if (m.dims == 3 && m.size[0] == 1) return cv::Mat(m.size[1], m.size[2], CV_32F, m.data);
  throw std::invalid_argument(decoder + " decoder: expected a [R, 5 + C] or [1, R, 5 + C] tensor, got " +
                              std::to_string(m.dims) + " dimensions");
}

}  // namespace sf
