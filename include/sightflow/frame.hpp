#pragma once
// A decoded video frame as it travels through the pipeline.
#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>

namespace sf {

struct Frame {
  std::string stream;    // stream name the frame belongs to
  int64_t seq = 0;       // 0-based sequence number per source, counting emitted frames
  double pts = 0.0;      // media time in seconds, from the container (0 at the start of the media)
  double wall_ts = 0.0;  // unix time (seconds) when the frame was captured/emitted by the source
  cv::Mat image;         // BGR, 8-bit; cv::Mat is reference counted, so copies share pixels
};

// Current unix time in seconds (system clock), used for wall_ts and result ts.
double unix_now();
// Unix time `unix_s` in UTC as strftime's `format` renders it (clamped to years 1970..9999).
std::string format_utc(double unix_s, const char* format);

}  // namespace sf
