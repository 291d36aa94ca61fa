#include "cli/bus_flags.hpp"

#include <spdlog/spdlog.h>

#include "cli/summary_json.hpp"

namespace sf::cli {

void BusFlags::add_to(CLI::App& cmd, bool stream_required) {
  cmd.add_option("--redis", redis, "Redis server URL: redis://[:password@]host[:port][/db]")
      ->capture_default_str();
  auto* stream_option =
      cmd.add_option("--stream", stream, "stream name (keys sf:frames:NAME, sf:results:NAME)");
  if (stream_required) stream_option->required();
  cmd.add_option("--give-up", give_up_s,
                 "seconds to keep reconnecting to a lost Redis before failing (0: forever)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--stats-interval", stats_interval_s, "seconds between stats lines (0: off)")
      ->capture_default_str();
  cmd.add_option("--summary-json", summary_json,
                 "write the final counters as JSON to this file (- for stdout)");
}

void add_spill_read_flags(CLI::App& cmd, FrameDecodeOptions& options) {
  options.spill_dir = kDefaultSpillDir;
  cmd.add_option("--spill-dir", options.spill_dir,
                 "folder of capture's large frames: frames sent by path are read from here only")
      ->capture_default_str();
  cmd.add_option("--max-spill-bytes", options.max_spill_bytes, "largest frame file read from --spill-dir")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

RedisRetryPolicy BusFlags::retry_policy() const {
  RedisRetryPolicy policy;
  policy.give_up_s = give_up_s;
  return policy;
}

void BusFlags::write_summary(const nlohmann::json& summary) const {
  write_summary_json(summary_json, summary);
}

StatsTicker::StatsTicker(double interval_s, std::function<std::string()> line) {
  if (interval_s <= 0) return;
  thread_ = std::thread([this, interval_s, line = std::move(line)] {
    std::unique_lock lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::duration<double>(interval_s), [this] { return done_; })) {
      spdlog::info("{}", line());
    }
  });
}

StatsTicker::~StatsTicker() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sf::cli
