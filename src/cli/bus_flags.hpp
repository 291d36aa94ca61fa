#pragma once
// The flags every bus command has (--redis, --stream, --give-up, --stats-interval, --summary-json), and
// the periodic stats line they print.
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "bus/frame_message.hpp"
#include "bus/redis_connection.hpp"

namespace sf::cli {

struct BusFlags {
  std::string redis = "redis://127.0.0.1:6379";
  std::string stream;
  double give_up_s = 0;
  double stats_interval_s = 10;
  std::string summary_json;

  // `stream_required`: capture derives a default stream name from its source.
  void add_to(CLI::App& cmd, bool stream_required);
  RedisRetryPolicy retry_policy() const;
  // Writes the JSON to --summary-json when given.
  void write_summary(const nlohmann::json& summary) const;
};

// --spill-dir and --max-spill-bytes of the commands that read frames (worker, replay, serve --redis): frames
// sent by path are read only from there. The folder defaults to capture's.
void add_spill_read_flags(CLI::App& cmd, FrameDecodeOptions& options);

// Logs `line()` every interval (0: never) until destroyed.
class StatsTicker {
 public:
  StatsTicker(double interval_s, std::function<std::string()> line);
  ~StatsTicker();
  StatsTicker(const StatsTicker&) = delete;
  StatsTicker& operator=(const StatsTicker&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace sf::cli
