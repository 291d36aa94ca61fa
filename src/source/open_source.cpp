// open_source(): picks the implementation for a URI; unix_now() and format_utc().
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <string>

#include "sightflow/frame.hpp"
#include "sightflow/source.hpp"
#include "source/ffmpeg_source.hpp"
#include "source/image_source.hpp"
#include "source/source_util.hpp"

namespace sf {

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

namespace {

// Rejects values that would make a source spin, never wake up, or overflow a duration.
void check_options(const std::string& uri, const SourceOptions& o) {
  auto fail = [&](const std::string& what) { throw SourceError("invalid options for " + uri + ": " + what); };
  constexpr double kDay = 86400.0;
  if (!(o.target_fps >= 0 && std::isfinite(o.target_fps))) fail("target_fps must be >= 0");
  if (!(o.start >= 0 && std::isfinite(o.start))) fail("start must be >= 0");
  if (o.width < 0 || o.height < 0) fail("width and height must be >= 0");
  if (!(o.reconnect_initial_s > 0 && o.reconnect_initial_s <= kDay))
    fail("reconnect_initial_s must be in (0, 1 day]");
  if (!(o.reconnect_max_s >= o.reconnect_initial_s && o.reconnect_max_s <= kDay)) {
    fail("reconnect_max_s must be in [reconnect_initial_s, 1 day]");
  }
  if (o.max_reconnects < -1) fail("max_reconnects must be >= -1");
  if (!(o.io_timeout_s > 0 && o.io_timeout_s <= kDay)) fail("io_timeout_s must be in (0, 1 day]");
  if (!(o.image_fps > 0 && std::isfinite(o.image_fps))) fail("image_fps must be > 0");
}

}  // namespace

std::unique_ptr<Source> open_source(const std::string& uri, const SourceOptions& options) {
  if (uri.empty()) throw SourceError("cannot open source: empty URI");
  check_options(uri, options);
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
