#pragma once
// FFmpeg-backed sources: video files, network streams (rtsp, http(s), tcp, udp, rtmp ...) and V4L2 devices.
#include <memory>
#include <string>

#include "sightflow/source.hpp"

namespace sf::source_detail {

// `uri` is a local path for SourceKind::File, the URL or device path otherwise; `options.name` is set.
// Files are opened here (SourceError on failure); live sources connect on the first read(), so that every
// blocking network call happens in the reading thread, where interrupt() can cut it short.
std::unique_ptr<Source> open_ffmpeg_source(const std::string& uri, SourceKind kind,
                                           const SourceOptions& options);

}  // namespace sf::source_detail
