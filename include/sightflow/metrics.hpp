#pragma once
// Per-stage timings, rates, drops and queue depths, shared by the CLI summary, the live stats line and
// (later) the dashboard and /metrics. All methods are thread-safe.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sf {

// Latency histogram buckets (upper bounds, seconds), Prometheus style, plus running mean and EWMA.
class StageStat {
 public:
  static constexpr std::array<double, 14> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
  void add(double seconds);
  int64_t count() const { return count_; }
  double sum() const { return sum_; }
  double mean() const { return count_ ? sum_ / double(count_) : 0; }
  double ewma() const { return ewma_; }
  double max() const { return max_; }
  const std::array<int64_t, kBuckets.size()>& bucket_counts() const { return buckets_; }  // not cumulative

 private:
  int64_t count_ = 0;
  double sum_ = 0, ewma_ = 0, max_ = 0;
  std::array<int64_t, kBuckets.size()> buckets_{};
};

// Events per second over a sliding window of recent events.
class RateMeter {
 public:
  explicit RateMeter(double window_s = 2.0) : window_s_(window_s) {}
  void tick(double now_s);
  double rate(double now_s) const;

 private:
  double window_s_;
  std::vector<double> times_;  // event times within the window, oldest first
};

struct StreamCounters {
  int64_t frames_read = 0;
  int64_t frames_skipped = 0;  // dropped by target-fps downsampling
  int64_t reconnects = 0;
  double in_fps = 0;
  StageStat read;
};

struct AlgoCounters {
  int64_t runs = 0;
  int64_t runs_dropped = 0;  // scheduled runs discarded because inference was busy (real time)
  double out_fps = 0;
  int64_t detections = 0;
  size_t queue_depth = 0, queue_capacity = 0;
  StageStat resize, model, post, sink, total;
};

// The results store's writer: results committed and how long each transaction took.
struct StoreCounters {
  int64_t results_stored = 0;
  StageStat commit;
};

// The webhook sink's deliveries (it counts them itself; Metrics reads them when reporting).
struct WebhookStats {
  uint64_t delivered = 0;          // answered 2xx
  uint64_t retried = 0;            // failed tries followed by another (connection error, 5xx, 429)
  uint64_t dead_lettered = 0;      // written to the dead-letter file
  uint64_t skipped_unchanged = 0;  // not sent under only_changes
  uint64_t queued = 0;             // waiting or being delivered now
};

class Metrics {
 public:
  // Where to read the webhook sink's counters (set when the run has one).
  void set_webhook_stats(std::function<WebhookStats()> read);
  std::optional<WebhookStats> webhook() const;
  void store_commit(size_t results, double seconds);
  StoreCounters store() const;
  void frame_read(const std::string& stream, double read_seconds, double now_s);
  void set_stream_totals(const std::string& stream, int64_t skipped, int64_t reconnects);
  void run_done(const std::string& stream, const std::string& algo, double resize, double model, double post,
                double sink, double total, size_t detections, double now_s);
  void run_dropped(const std::string& stream, const std::string& algo, int64_t n = 1);
  void queue_depth(const std::string& stream, const std::string& algo, size_t depth, size_t capacity);

  // Copies, for reporting.
  std::map<std::string, StreamCounters> streams(double now_s) const;
  std::map<std::pair<std::string, std::string>, AlgoCounters> algorithms(double now_s) const;
  nlohmann::json to_json(double now_s) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, StreamCounters> streams_;
  std::map<std::string, RateMeter> in_rates_;
  std::map<std::pair<std::string, std::string>, AlgoCounters> algos_;
  std::map<std::pair<std::string, std::string>, RateMeter> out_rates_;
  StoreCounters store_;
  std::function<WebhookStats()> webhook_stats_;
};

double steady_now();  // seconds on the steady clock, for rates

}  // namespace sf
