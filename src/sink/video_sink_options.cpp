#include "sink/video_sink_options.hpp"

#include "sightflow/sink_options.hpp"

namespace sf {

VideoSinkOptions read_video_sink_options(const nlohmann::json& options) {
  SinkOptionReader r(options, "path");
  r.only_keys({"path", "segment", "keep"});
  VideoSinkOptions o;
  o.path = r.required_text("path", "a video file (.mp4, .mkv, .avi)");
  o.segment_s = r.number("segment", 0);
  o.keep_segments = int(r.integer("keep", 0));
  if (o.segment_s < 0) r.fail("segment", "must not be negative (seconds of media per file; 0: one file)");
  if (o.keep_segments < 0) r.fail("keep", "must not be negative (0: keep every segment)");
  if (o.keep_segments > 0 && o.segment_s == 0) r.fail("keep", "needs segment (it counts segment files)");
  return o;
}

}  // namespace sf
