#pragma once
// JPEG encoding and decoding with libjpeg-turbo's TurboJPEG API (faster than cv::imencode/imdecode and with
// errors that say what was wrong). Safe to call from any thread: each call uses its own TurboJPEG handle.
#include <cstddef>
#include <opencv2/core/mat.hpp>
#include <stdexcept>
#include <vector>

#include "media/image_probe.hpp"

namespace sf {

// Data that is not a decodable JPEG, one over the pixel limit, or a failure inside libjpeg-turbo; what()
// says which and why.
class JpegError : public ImageError {
 public:
  using ImageError::ImageError;
};

// Encodes an 8-bit BGR (CV_8UC3, 4:2:0 chroma) or grey (CV_8UC1) image; quality 1..100. Throws
// std::invalid_argument for an empty image, another type or a quality out of range.
std::vector<unsigned char> encode_jpeg(const cv::Mat& image, int quality = 90);

// Decodes a JPEG to an 8-bit BGR image (grey JPEGs too). A truncated or corrupt stream is an error, not a
// partly grey image: libjpeg-turbo only warns about those, and warnings are treated as errors here. So is
// a header that declares more than max_image_pixels(), before any pixel is allocated.
cv::Mat decode_jpeg(const unsigned char* data, size_t size);
cv::Mat decode_jpeg(const std::vector<unsigned char>& data);

}  // namespace sf
