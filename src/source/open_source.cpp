// open_source(): picks the implementation for a URI; unix_now() and format_utc().
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <sstream>
#include <string>

#include "sightflow/frame.hpp"
#include "sightflow/source.hpp"
#include "source/ffmpeg_source.hpp"
#include "source/image_source.hpp"
#include "source/source_util.hpp"

namespace sf {

namespace {

std::string fmt_seconds(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

}  // namespace

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string format_utc(double unix_s, const char* format) {
  if (!std::isfinite(unix_s)) unix_s = 0;
  const std::time_t t = static_cast<std::time_t>(std::clamp(std::floor(unix_s), 0.0, 253402300799.0));
  std::tm parts{};
  gmtime_r(&t, &parts);
  char text[64];
  return std::string(text, std::strftime(text, sizeof text, format, &parts));
}

// Rejects values that would make a source spin, never wake up, overflow a duration or crash swscale.
void validate(const SourceOptions& o) {
  auto fail = [](const char* key, const char* member, const std::string& problem) {
    throw SourceOptionError(key, member, problem);
  };
  constexpr double kDay = 86400.0;
  constexpr int kMaxDecodeThreads = 64;  // far past what one stream can use; more only costs memory
  auto sides = [](int got) {
    return "must be in [0, " + std::to_string(SourceOptions::kMaxSide) + "] (0: keep), got " +
           std::to_string(got);
  };
  if (!(o.target_fps >= 0 && std::isfinite(o.target_fps))) fail("fps", "target_fps", "must be a number >= 0");
  if (!(o.start >= 0 && std::isfinite(o.start))) fail("start", "start", "must be a number >= 0");
  if (o.width < 0 || o.width > SourceOptions::kMaxSide) fail("width", "width", sides(o.width));
  if (o.height < 0 || o.height > SourceOptions::kMaxSide) fail("height", "height", sides(o.height));
  if (!(o.reconnect_initial_s > 0 && o.reconnect_initial_s <= kDay))
    fail("reconnect_initial", "reconnect_initial_s", "must be in (0, 86400] seconds");
  if (!(o.reconnect_max_s >= o.reconnect_initial_s && o.reconnect_max_s <= kDay))
    fail("reconnect_max", "reconnect_max_s",
         "must be in [" + fmt_seconds(o.reconnect_initial_s) + ", 86400] seconds");
  if (o.max_reconnects < -1)
    fail("max_reconnects", "max_reconnects",
         "must be -1 (forever) or more, got " + std::to_string(o.max_reconnects));
  if (!(o.io_timeout_s > 0 && o.io_timeout_s <= kDay))
    fail("timeout", "io_timeout_s", "must be in (0, 86400] seconds");
  if (!(o.image_fps > 0 && std::isfinite(o.image_fps)))
    fail("image_fps", "image_fps", "must be a number > 0");
  if (o.decode_threads < 0 || o.decode_threads > kMaxDecodeThreads)
    fail("decode_threads", "decode_threads",
         "must be in [0, " + std::to_string(kMaxDecodeThreads) + "] (0: auto), got " +
             std::to_string(o.decode_threads));
}

std::unique_ptr<Source> open_source(const std::string& uri, const SourceOptions& options) {
  if (uri.empty()) throw SourceError("cannot open source: empty URI");
  try {
    validate(options);
  } catch (const SourceOptionError& e) {
    throw SourceError("invalid options for " + uri + ": " + e.member() + " " + e.what());
  }
  SourceOptions opts = options;
  if (opts.name.empty()) opts.name = default_stream_name(uri);
  const SourceKind kind = classify_uri(uri);
  switch (kind) {
    case SourceKind::Image:
    case SourceKind::ImageFolder:
      return source_detail::open_image_source(source_detail::local_path(uri), kind, opts);
    case SourceKind::File:
      return source_detail::open_ffmpeg_source(source_detail::local_path(uri), kind, opts);
    case SourceKind::Network:
    case SourceKind::Device:
      break;
  }
  return source_detail::open_ffmpeg_source(uri, kind, opts);
}

}  // namespace sf
