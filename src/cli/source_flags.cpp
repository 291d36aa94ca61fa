#include "cli/source_flags.hpp"

namespace sf::cli {

std::pair<int, int> parse_size(const std::string& text) {
  auto x = text.find('x');
  try {
    if (x == std::string::npos) throw std::invalid_argument(text);
    size_t used_w = 0, used_h = 0;
    const std::string w = text.substr(0, x), h = text.substr(x + 1);
    std::pair<int, int> size{std::stoi(w, &used_w), std::stoi(h, &used_h)};
    if (used_w != w.size() || used_h != h.size()) throw std::invalid_argument(text);
    return size;
  } catch (const std::exception&) {
    throw std::invalid_argument("--resize expects WIDTHxHEIGHT (0 keeps the aspect ratio), got '" + text +
                                "'");
  }
}

void SourceFlags::add_to(CLI::App& cmd, bool several) {
  std::string what = "file, rtsp/http/tcp/udp URL, /dev/videoN, image or image folder (default: vtest.avi)";
  if (several) {
    cmd.add_option("--source", sources, what + "; repeatable");
    cmd.add_option("--name", names, "stream name for each --source, in order");
  } else {
    cmd.add_option("--source", sources, what)->expected(1);
  }
  cmd.add_option("--fps", fps, "downsample the source to at most this many frames per second");
  cmd.add_option("--start", start, "start position in seconds (files)");
  cmd.add_flag("--loop", loop, "start files again at their end");
  cmd.add_flag("--stop-at-end", stop_at_end, "live sources: end at end-of-stream instead of reconnecting");
  cmd.add_option("--max-reconnects", max_reconnects,
                 "live sources: attempts per outage, -1 forever (with --stop-at-end: " +
                     std::to_string(SourceOptions::kStopAtEndFirstAttempts) + " for the first connection)")
      ->capture_default_str();
  cmd.add_option("--resize", resize, "resize frames to WIDTHxHEIGHT (0 keeps the aspect ratio)");
  cmd.add_option("--decode-threads", decode_threads, "FFmpeg decoder threads per stream (0: auto)")
      ->capture_default_str();
  cmd.add_option("--max-frames", max_frames, "stop each stream after this many frames");
}

void SourceFlags::add_plain_to(CLI::App& cmd, const std::string& max_frames_names) {
  cmd.add_option("--source", sources, "video to run on (default: vtest.avi)")->expected(1);
  auto* frames = cmd.add_option(max_frames_names, max_frames, "stop after this many video frames");
  if (max_frames > 0) frames->capture_default_str();
}

std::vector<std::string> SourceFlags::stream_flag_names() {
  return {"--source", "--name", "--fps", "--start", "--resize", "--decode-threads", "--max-reconnects"};
}

SourceOptions SourceFlags::options() const {
  SourceOptions o;
  o.target_fps = fps;
  o.start = start;
  o.loop = loop;
  o.stop_at_end = stop_at_end;
  o.decode_threads = decode_threads;
  o.max_reconnects = max_reconnects;
  if (!resize.empty()) std::tie(o.width, o.height) = parse_size(resize);
  try {
    validate(o);
  } catch (const SourceOptionError& e) {
    // The same checks as a config file's, named by the flag that set the value.
    const std::string& key = e.key();
    const std::string named = key == "width" || key == "height" ? "--resize: " + key + " "
                              : key == "fps"                    ? "--fps: "
                              : key == "start"                  ? "--start: "
                              : key == "decode_threads"         ? "--decode-threads: "
                              : key == "max_reconnects"         ? "--max-reconnects: "
                                                                : key + ": ";
    throw std::invalid_argument(named + e.what());
  }
  return o;
}

std::vector<StreamConfig> SourceFlags::streams(const std::string& fallback) const {
  auto list = sources;
  if (list.empty()) list.push_back(fallback);
  if (!names.empty() && names.size() != list.size())
    throw std::invalid_argument("give one --name per --source (" + std::to_string(list.size()) +
                                " sources, " + std::to_string(names.size()) + " names)");
  std::vector<StreamConfig> out;
  for (size_t i = 0; i < list.size(); ++i) {
    StreamConfig s;
    s.source = list[i];
    s.options = options();
    s.options.name = names.empty() ? "" : names[i];
    out.push_back(s);
  }
  return out;
}

}  // namespace sf::cli
