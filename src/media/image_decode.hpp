#pragma once
// Images from outside (files, request bodies) decoded one careful way: the header is checked against the
// pixel limit before a pixel is allocated, JPEG is decoded strictly with libturbojpeg (a truncated file is
// an error, not a picture with a grey bottom), and the other formats probe_image reads with OpenCV.
#include <cstddef>
#include <filesystem>
#include <opencv2/core/mat.hpp>

#include "media/image_probe.hpp"

namespace sf {

// An 8-bit BGR image. Throws ImageError (JpegError for a JPEG) saying why not.
cv::Mat decode_image_bytes(const unsigned char* data, size_t size);

// The regular file at `path` (a device or a FIFO named like an image is refused, not read without end),
// no larger than an image within the pixel limit can be, decoded as above. Throws ImageError.
cv::Mat read_image_file(const std::filesystem::path& path);

}  // namespace sf
