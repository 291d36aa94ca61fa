#pragma once
// Where results go. The pipeline calls every sink from one sink thread, in result order per algorithm.
//
// A new sink is one file plus one registration in src/config/sink_registry.cpp (built-in), or a
// register_sink() call (a program's or a test's own sink); it is then reachable from YAML (a key under
// `sinks:`), the flags that fill the same description, and the streams the HTTP API starts.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "sightflow/metrics.hpp"
#include "sightflow/result.hpp"

namespace sf {

class Sink : public CounterSource {
 public:
  virtual void write(const Result& result) = 0;
  // Called once after the last result; flush and finish files here.
  virtual void close() {}
  // What the sink counts itself (deliveries, rows stored) for /metrics, /api/metrics, --summary-json and
  // the CLI summary; called from any thread. Most sinks count nothing and keep this default.
  void report(CounterReport& out) const override { (void)out; }
};

// What a sink may need to know of the run beyond its own options.
struct SinkContext {
  bool realtime = false;  // results arrive at the source's pace: flush each one (followers see it at once)
  size_t streams = 1;     // several: sinks that write one file per stream add the stream's name
};

// One configured sink: its registered type (the YAML key under `sinks:`) and its options (the YAML
// node as JSON: a scalar for a short form such as `jsonl: out.jsonl`, else an object).
struct SinkSpec {
  std::string type;
  nlohmann::json options;
};

// A bad sink option; `key` names it inside the options ("archive.dir"; "" for the whole), so that a
// configuration reader can point at its line.
class SinkOptionError : public std::invalid_argument {
 public:
  SinkOptionError(std::string key, const std::string& problem)
      : std::invalid_argument(problem), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// Builds a sink (opening its files, connections, threads); throws SinkOptionError for a bad option and
// std::runtime_error when it cannot start.
using SinkFactory =
    std::function<std::shared_ptr<Sink>(const nlohmann::json& options, const SinkContext& context)>;
// Reads the options without side effects, throwing SinkOptionError: lets a configuration name a bad
// option (with its line) before anything runs. Optional: without one, options are checked when the sink
// is built.
using SinkOptionsCheck = std::function<void(const nlohmann::json& options)>;

// Adds (or replaces) a sink type. Thread-safe.
void register_sink(const std::string& type, SinkFactory factory, SinkOptionsCheck check = {});
std::vector<std::string> sink_types();
// Throws std::invalid_argument naming an unknown type (and the known ones), SinkOptionError for a bad
// option.
void check_sink_options(const SinkSpec& spec);
std::shared_ptr<Sink> create_sink(const SinkSpec& spec, const SinkContext& context);

// One JSON object per line; path "-" writes to standard output. Throws naming the path if it cannot be
// created. Flushed after each line in real time so that followers (tail -f) see results at once.
std::shared_ptr<Sink> make_jsonl_sink(const std::string& path, bool flush_each_line);

// One JSON object per event (Result::events with their result's stream, algo, frame, pts, ts) per line.
std::shared_ptr<Sink> make_events_sink(const std::string& path, bool flush_each_line);

// Tracked detections in MOTChallenge text (`frame,id,x,y,w,h,score,-1,-1,-1`, frame = seq + 1), as
// TrackEval and py-motmetrics read it. Detections without a track_id are left out.
std::shared_ptr<Sink> make_mot_sink(const std::string& path);

// An annotated video (boxes, labels, count and fps drawn) per stream, encoded with FFmpeg. With several
// streams the stream name is added before the extension.
struct VideoSinkOptions {
  std::string path;       // NAME.EXT: the container comes from the extension (.mp4, .mkv, .avi, ...)
  double fps = 25.0;      // nominal rate: frames are encoded at their own media time
  double segment_s = 0;   // > 0: a new file NAME-000.EXT, NAME-001.EXT ... every this many media seconds
  int keep_segments = 0;  // with segments: delete the oldest beyond this many (0: keep all)
};
std::shared_ptr<Sink> make_video_sink(const VideoSinkOptions& options, bool several_streams);
std::shared_ptr<Sink> make_video_sink(const std::string& path, double fps, bool several_streams);

}  // namespace sf
