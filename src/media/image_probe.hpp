#pragma once
// What an encoded image says about itself, read from its header without decoding a pixel, and the limit on
// its size. A 389 KB PNG may declare 20000x20000 and cost 1.2 GB to decode: every decoder of outside input
// (the inference API, bus frames, image folders, video streams) asks here first.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sf {

// 40 megapixels: an 8K UHD frame (7680x4320) is 33.
inline constexpr int64_t kDefaultMaxImagePixels = 40'000'000;

// The most pixels (width x height) an image or frame may declare: the global option --max-pixels, or a run
// config's max_pixels. One per process, like OpenCV's OPENCV_IO_MAX_IMAGE_PIXELS, because the decoders it
// guards sit in layers that share no settings. Thread-safe.
int64_t max_image_pixels();
void set_max_image_pixels(int64_t pixels);  // throws std::invalid_argument when below 1

// Bytes that are not an image of a format read here, with a damaged header, or too large; what() says
// which, and never quotes the bytes.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ImageHeader {
  std::string_view format;  // "JPEG", "PNG", "BMP", "TIFF" or "WebP"
  int64_t width = 0, height = 0;
};

// The format and size the header declares (JPEG: libturbojpeg, PNG: libpng, WebP: libwebp, TIFF: libtiff,
// BMP: its fixed header). Other formats OpenCV would decode (PNM, Sun raster, JPEG 2000, ...) are refused:
// their sizes would go unchecked. Throws ImageError.
ImageHeader probe_image(const unsigned char* data, size_t size);

// Why an image of width x height must not be decoded ("20000x20000 is over the limit of 40000000 pixels
// (--max-pixels)"), or nothing.
std::optional<std::string> image_size_problem(int64_t width, int64_t height);

// Why these bytes must not be decoded (an unknown format, a damaged header, too many pixels), or nothing.
std::optional<std::string> image_header_problem(std::string_view bytes);

}  // namespace sf
