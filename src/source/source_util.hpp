#pragma once
// Internal pieces shared by the FFmpeg and image sources and the source policy.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <opencv2/core/types.hpp>
#include <string>

#include "sightflow/source.hpp"

namespace sf::source_detail {

// ASCII lower case.
std::string lower(std::string s);
// "scheme://rest" -> the lower-cased scheme; "" when the URI has none (a plain path).
std::string scheme_of(const std::string& uri);

// "file:///a/b.avi" -> "/a/b.avi"; anything else is returned as is.
std::string local_path(const std::string& uri);
// jpg, jpeg, png, bmp, tif, tiff, webp (any case).
bool has_image_extension(const std::filesystem::path& path);

// Output size for a w x h input given the requested size; a 0 in one of them keeps the aspect ratio.
// Throws SourceError naming `uri` when a side would exceed SourceOptions::kMaxSide (a frame that size
// crashes swscale), also for a side computed from the aspect ratio.
inline cv::Size output_size(const std::string& uri, int w, int h, int want_w, int want_h) {
  double out_w = w, out_h = h;
  if (want_w > 0 && want_h > 0) {
    out_w = want_w, out_h = want_h;
  } else if (want_w > 0) {
    out_w = want_w, out_h = std::max(1.0, std::round(static_cast<double>(h) * want_w / w));
  } else if (want_h > 0) {
    out_w = std::max(1.0, std::round(static_cast<double>(w) * want_h / h)), out_h = want_h;
  }
  constexpr int kMax = SourceOptions::kMaxSide;
  if (out_w > kMax || out_h > kMax) {
    throw SourceError(uri + ": a " + std::to_string(w) + "x" + std::to_string(h) + " frame resized to " +
                      std::to_string(static_cast<int64_t>(out_w)) + "x" +
                      std::to_string(static_cast<int64_t>(out_h)) + " exceeds the limit of " +
                      std::to_string(kMax) + " pixels a side (--resize / width, height)");
  }
  return {static_cast<int>(out_w), static_cast<int>(out_h)};
}

// Target-fps downsampling by media time: keep a frame when pts >= next_keep, then next_keep += 1/fps.
class FpsGate {
 public:
  explicit FpsGate(double target_fps) : interval_(target_fps > 0 ? 1.0 / target_fps : 0.0) {}

  bool keep(double pts) {
    if (interval_ <= 0) return true;
    // Timestamps jumped back (broken stream): restart the grid instead of dropping everything.
    if (started_ && pts < next_ - interval_ - 1.0) started_ = false;
    // The tolerance absorbs rounding of the accumulated grid (k * 0.4 against 4k / 10).
    if (started_ && pts + kTolerance < next_) return false;
    next_ = started_ ? next_ + interval_ : pts + interval_;
    // After a gap in the media, do not keep a burst of frames to catch up with the grid.
    if (next_ <= pts) next_ = pts + interval_;
    started_ = true;
    return true;
  }

 private:
  static constexpr double kTolerance = 1e-6;
  double interval_;
  double next_ = 0.0;
  bool started_ = false;
};

}  // namespace sf::source_detail
