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
  int64_t runs_failed = 0;   // runs whose algorithm or stages threw: no result
  double out_fps = 0;
  int64_t detections = 0;
  size_t queue_depth = 0, queue_capacity = 0;
  StageStat resize, model, post, sink, total;
};

// One figure a part of a run keeps for itself: `part` names its JSON object ("store", "webhook"), `key`
// the figure in it, `metric` its Prometheus family (base units, `_total` for counters).
struct CounterName {
  std::string part, key, metric, help;
};

// Where such a part reports its figures; the reader renders them as Prometheus families (/metrics), a
// JSON object per part (/api/metrics, --summary-json) or lines of the CLI summary.
class CounterReport {
 public:
  virtual ~CounterReport() = default;
  virtual void counter(const CounterName& name, double value) = 0;
  virtual void gauge(const CounterName& name, double value) = 0;
  virtual void histogram(const CounterName& name, const StageStat& stat) = 0;
  // A sentence for the end-of-run summary ("store: 20 results stored in 3 transactions, ...").
  virtual void summary(const std::string& line) { (void)line; }
};

// A part that counts for itself (a sink, the worker's store writes): asked for its figures when they are
// read, from any thread, so report() must be thread-safe.
class CounterSource {
 public:
  virtual ~CounterSource() = default;
  virtual void report(CounterReport& out) const = 0;
};

class Metrics {
 public:
  // Parts that keep their own counters (the pipeline adds every sink); reported after the engine's own.
  void add_counter_source(std::shared_ptr<const CounterSource> source);
  void report_counters(CounterReport& out) const;
  void frame_read(const std::string& stream, double read_seconds, double now_s);
  void set_stream_totals(const std::string& stream, int64_t skipped, int64_t reconnects);
  void run_done(const std::string& stream, const std::string& algo, double resize, double model, double post,
                double sink, double total, size_t detections, double now_s);
  void run_dropped(const std::string& stream, const std::string& algo, int64_t n = 1);
  void run_failed(const std::string& stream, const std::string& algo);
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
  std::vector<std::shared_ptr<const CounterSource>> counter_sources_;
};

double steady_now();  // seconds on the steady clock, for rates

}  // namespace sf
