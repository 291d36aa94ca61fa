#pragma once
// The flags that describe where frames come from, declared once for every command that decodes a source
// (run, eval, bench, dataset capture, client): --source, --name, --fps, --start, --loop, --stop-at-end,
// --max-reconnects, --resize, --decode-threads, --max-frames.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "sightflow/config.hpp"

namespace sf::cli {

struct SourceFlags {
  std::vector<std::string> sources, names;
  double fps = 0, start = 0;
  bool loop = false, stop_at_end = false;
  std::string resize;
  int decode_threads = 1;
  int max_reconnects = -1;
  int64_t max_frames = -1;

  // `several`: --source and --name may repeat (run); else one source.
  void add_to(CLI::App& cmd, bool several);
  // Only --source (one) and --max-frames: for commands that score or time the video's own frames (eval,
  // bench), where downsampling, seeking or resizing would break the comparison.
  // `max_frames_names` may add a name the command has always had ("--frames,--max-frames").
  void add_plain_to(CLI::App& cmd, const std::string& max_frames_names = "--max-frames");
  // The flags that --config cannot be combined with (they describe streams the file describes).
  static std::vector<std::string> stream_flag_names();
  // Throws std::invalid_argument naming the flag of a value out of range.
  SourceOptions options() const;
  // One stream per --source (`fallback` when none is given); throws std::invalid_argument naming the flag
  // of a value out of range (--resize, --fps, ...) or a --name count that does not match.
  std::vector<StreamConfig> streams(const std::string& fallback) const;
  // The one source of a single-source command (`fallback` when none is given).
  std::string source(const std::string& fallback) const { return sources.empty() ? fallback : sources[0]; }
};

// "640x480", "640x0" -> width, height; throws std::invalid_argument naming --resize.
std::pair<int, int> parse_size(const std::string& text);

}  // namespace sf::cli
