#include "media/jpeg_codec.hpp"

#include <turbojpeg.h>

#include <memory>
#include <string>

namespace sf {
namespace {

struct TjDestroy {
  void operator()(void* h) const { tjDestroy(h); }
};
using TjHandle = std::unique_ptr<void, TjDestroy>;

struct TjFree {
  void operator()(unsigned char* p) const { tjFree(p); }
};
using TjBuffer = std::unique_ptr<unsigned char, TjFree>;

// A handle per call rather than a shared one: tjhandle is not thread-safe, and creating one costs a few
// small allocations, nothing next to coding a frame.
TjHandle make_handle(bool compress) {
  TjHandle h(compress ? tjInitCompress() : tjInitDecompress());
  if (!h) throw JpegError(std::string("cannot initialise TurboJPEG: ") + tjGetErrorStr2(nullptr));
  return h;
}

std::string describe(size_t size) { return "(" + std::to_string(size) + " bytes)"; }

}  // namespace

std::vector<unsigned char> encode_jpeg(const cv::Mat& image, int quality) {
  if (image.empty()) throw std::invalid_argument("encode_jpeg: empty image");
  if (quality < 1 || quality > 100)
    throw std::invalid_argument("encode_jpeg: quality " + std::to_string(quality) + " is not in 1..100");
  int pixel_format, subsampling;
  if (image.type() == CV_8UC3) {
    pixel_format = TJPF_BGR;
    subsampling = TJSAMP_420;
  } else if (image.type() == CV_8UC1) {
    pixel_format = TJPF_GRAY;
    subsampling = TJSAMP_GRAY;
  } else {
    throw std::invalid_argument("encode_jpeg: image type " + std::to_string(image.type()) +
                                " is neither CV_8UC3 (BGR) nor CV_8UC1 (grey)");
  }
  TjHandle handle = make_handle(true);
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  // The row pitch is passed explicitly, so ROIs (non-continuous Mats) need no copy.
  int rc = tjCompress2(handle.get(), image.data, image.cols, static_cast<int>(image.step[0]), image.rows,
                       pixel_format, &out, &out_size, subsampling, quality, 0);
  TjBuffer owned(out);  // tjCompress2 may have allocated even when it failed
  if (rc != 0) throw JpegError(std::string("JPEG encoding failed: ") + tjGetErrorStr2(handle.get()));
  return std::vector<unsigned char>(out, out + out_size);
}

cv::Mat decode_jpeg(const unsigned char* data, size_t size) {
  if (data == nullptr || size == 0) throw JpegError("cannot decode JPEG: empty input");
  TjHandle handle = make_handle(false);
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), data, size, &width, &height, &subsampling, &colorspace) != 0)
    throw JpegError("not a JPEG or its header is damaged " + describe(size) + ": " +
                    tjGetErrorStr2(handle.get()));
  if (auto problem = image_size_problem(width, height)) throw JpegError(*problem);
  cv::Mat bgr(height, width, CV_8UC3);
  // STOPONWARNING: a truncated stream is otherwise "decoded" with the missing part filled grey.
  if (tjDecompress2(handle.get(), data, size, bgr.data, width, static_cast<int>(bgr.step[0]), height,
                    TJPF_BGR, TJFLAG_STOPONWARNING) != 0) {
    const bool warning = tjGetErrorCode(handle.get()) == TJERR_WARNING;
    throw JpegError(std::string(warning ? "truncated or corrupt JPEG " : "corrupt or unsupported JPEG ") +
                    describe(size) + ": " + tjGetErrorStr2(handle.get()));
  }
  return bgr;
}

cv::Mat decode_jpeg(const std::vector<unsigned char>& data) { return decode_jpeg(data.data(), data.size()); }

}  // namespace sf
