// `sightflow capture`: decode a source and publish its frames to sf:frames:NAME for workers anywhere.
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "bus/frame_publisher.hpp"
#include "bus/stream_keys.hpp"
#include "cli/bus_flags.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "sightflow/pipeline.hpp"

namespace sf::cli {
namespace {

struct CaptureFlags {
  BusFlags bus;
  std::string source = SIGHTFLOW_DEFAULT_VIDEO;
  std::string mode;  // offline | realtime; default: offline for files, realtime for live sources
  std::string group = "workers";
  double fps = 0;
  int64_t maxlen = 10000;
  int64_t max_frames = -1;
  int quality = 90;
  size_t max_inline_bytes = 1 << 20;
  std::string spill_dir = kDefaultSpillDir;
  double high_water = 0.8;
  bool loop = false;
};

int capture(CaptureFlags f) {
  SourceOptions source_options;
  source_options.name = f.bus.stream;
  source_options.target_fps = f.fps;
  source_options.loop = f.loop;
  auto source = open_source(f.source, source_options);
  if (f.bus.stream.empty()) f.bus.stream = default_stream_name(f.source);
  Mode mode = f.mode.empty() ? (source->live() ? Mode::Realtime : Mode::Offline) : parse_mode(f.mode);

  RedisConnection redis(parse_redis_url(f.bus.redis), f.bus.retry_policy());
  PublisherOptions options;
  options.stream = f.bus.stream;
  options.maxlen = f.maxlen;
  options.group = f.group;
  options.backpressure = mode == Mode::Offline;
  options.high_water = f.high_water;
  options.message.jpeg_quality = f.quality;
  options.message.max_inline_bytes = f.max_inline_bytes;
  options.message.spill_dir = f.spill_dir;
  FramePublisher publisher(redis, options);
  spdlog::info("capture: {} -> {} on {} ({} mode, MAXLEN ~{})", f.source, frames_key(f.bus.stream),
               redis.endpoint().describe(), to_string(mode), f.maxlen);

  std::atomic<bool> stop{false};
  InterruptWatch interrupt_watch([&] {
    spdlog::warn("capture: interrupted; stopping");
    stop = true;
    source->interrupt();
    redis.interrupt();
  });
  const auto& stats = publisher.stats();
  Stopwatch wall;
  StatsTicker ticker(f.bus.stats_interval_s, [&] {
    return "capture: " + std::to_string(stats.published.load()) + " frames published, " +
           std::to_string(stats.trimmed_unread.load()) + " trimmed unread, " +
           std::to_string(int(stats.backpressure_wait_s.load())) + " s waiting for consumers";
  });
  // Real time from a file: publish at the media's pace, as a camera would.
  bool pace = mode == Mode::Realtime && !source->live();
  double first_pts = -1;
  auto started = std::chrono::steady_clock::now();
  std::string error;
  try {
    while (!stop && (f.max_frames < 0 || stats.published < f.max_frames)) {
      auto frame = source->read();
      if (!frame) break;
      frame->stream = f.bus.stream;
      if (pace) {
        if (first_pts < 0) first_pts = frame->pts;
        std::this_thread::sleep_until(started +
                                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                          std::chrono::duration<double>(frame->pts - first_pts)));
      }
      publisher.publish(*frame);
    }
  } catch (const RedisUnavailable& e) {
    if (!stop) error = e.what();
  } catch (const std::exception& e) {
    error = e.what();
  }
  double seconds = wall.seconds();
  auto summary = stats.to_json();
  summary["stream"] = f.bus.stream;
  summary["wall_seconds"] = seconds;
  summary["fps"] = seconds > 0 ? double(stats.published) / seconds : 0.0;
  summary["reconnects"] = redis.reconnects();
  summary["error"] = error;
  f.bus.write_summary(summary);
  std::cerr << "capture: " << stats.published << " frames published to " << frames_key(f.bus.stream) << " in "
            << seconds << " s (" << summary["fps"].get<double>() << " fps); " << stats.trimmed_unread
            << " trimmed before any consumer read them; " << stats.lost
            << " lost when Redis came back without them; " << stats.backpressure_wait_s
            << " s waiting for consumers; " << redis.reconnects() << " reconnects\n";
  if (!error.empty()) {
    std::cerr << "sightflow: error: " << error << "\n";
    return 2;
  }
  return 0;
}

}  // namespace

Command add_capture_command(CLI::App& app) {
  auto flags = std::make_shared<CaptureFlags>();
  auto* cmd = app.add_subcommand("capture", "Decode a source and publish its frames to a Redis stream");
  auto& f = *flags;
  f.bus.add_to(*cmd, false);
  cmd->add_option("--source", f.source, "file, URL or device (default: vtest.avi)");
  cmd->add_option("--mode", f.mode,
                  "offline: wait for the consumers (no frame lost); realtime: source pace, trim what is not "
                  "read (default: offline for files, realtime for live sources)")
      ->check(CLI::IsMember({"offline", "realtime"}));
  cmd->add_option("--group", f.group, "consumer group created if missing, watched for backpressure")
      ->capture_default_str();
  cmd->add_option("--fps", f.fps, "downsample the source to at most this many frames per second");
  cmd->add_option("--maxlen", f.maxlen, "approximate cap of the frames stream (XADD MAXLEN ~)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-frames", f.max_frames, "stop after this many frames");
  cmd->add_option("--quality", f.quality, "JPEG quality")->check(CLI::Range(1, 100))->capture_default_str();
  cmd->add_option("--max-inline-bytes", f.max_inline_bytes,
                  "larger JPEGs are written to --spill-dir, sent by path")
      ->capture_default_str();
  cmd->add_option("--spill-dir", f.spill_dir, "folder for large frames (shared with the workers)")
      ->capture_default_str();
  cmd->add_option("--high-water", f.high_water,
                  "offline: wait while a group's lag exceeds this share of --maxlen")
      ->check(CLI::Range(0.05, 1.0))
      ->capture_default_str();
  cmd->add_flag("--loop", f.loop, "start files again at their end");
  return [flags] { return capture(*flags); };
}

}  // namespace sf::cli
