#pragma once
// The `video` sink's options: `PATH`, or {path, segment, keep} (docs/CONFIG.md).
#include <nlohmann/json.hpp>

#include "sightflow/sink.hpp"

namespace sf {

// Throws SinkOptionError naming the key.
VideoSinkOptions read_video_sink_options(const nlohmann::json& options);

}  // namespace sf
