#include "sightflow/metrics.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sf {

double steady_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void StageStat::add(double seconds) {
  // EWMA weight 0.1: follows changes within ~10 runs while smoothing frame-to-frame jitter.
  ewma_ = count_ == 0 ? seconds : 0.9 * ewma_ + 0.1 * seconds;
  ++count_;
  sum_ += seconds;
  max_ = std::max(max_, seconds);
  auto it = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds);
  if (it != kBuckets.end()) ++buckets_[size_t(it - kBuckets.begin())];
}

void RateMeter::tick(double now_s) {
  times_.push_back(now_s);
  auto first = std::find_if(times_.begin(), times_.end(), [&](double t) { return t >= now_s - window_s_; });
  times_.erase(times_.begin(), first);
}

double RateMeter::rate(double now_s) const {
  auto live = std::count_if(times_.begin(), times_.end(), [&](double t) { return t >= now_s - window_s_; });
  if (live < 2) return 0;
  // Measure over the span actually covered while events keep coming, the whole window once they stop.
  double span = std::max(now_s - times_[times_.size() - size_t(live)], 1e-6);
  return double(live) / std::max(span, window_s_ * 0.5);
}

void Metrics::frame_read(const std::string& stream, double read_seconds, double now_s) {
  std::lock_guard lock(mutex_);
  auto& s = streams_[stream];
  ++s.frames_read;
  s.read.add(read_seconds);
  in_rates_[stream].tick(now_s);
}

void Metrics::set_stream_totals(const std::string& stream, int64_t skipped, int64_t reconnects) {
  std::lock_guard lock(mutex_);
  auto& s = streams_[stream];
  s.frames_skipped = skipped;
  s.reconnects = reconnects;
}

void Metrics::run_done(const std::string& stream, const std::string& algo, double resize, double model,
                       double post, double sink, double total, size_t detections, double now_s) {
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(stream, algo);
  auto& a = algos_[key];
  ++a.runs;
  a.detections += int64_t(detections);
  a.resize.add(resize);
  a.model.add(model);
  a.post.add(post);
  a.sink.add(sink);
  a.total.add(total);
  out_rates_[key].tick(now_s);
}

void Metrics::run_dropped(const std::string& stream, const std::string& algo, int64_t n) {
  std::lock_guard lock(mutex_);
  algos_[{stream, algo}].runs_dropped += n;
}

void Metrics::run_failed(const std::string& stream, const std::string& algo) {
  std::lock_guard lock(mutex_);
  ++algos_[{stream, algo}].runs_failed;
}

void Metrics::queue_depth(const std::string& stream, const std::string& algo, size_t depth, size_t capacity) {
  std::lock_guard lock(mutex_);
  auto& a = algos_[{stream, algo}];
  a.queue_depth = depth;
  a.queue_capacity = capacity;
}

std::map<std::string, StreamCounters> Metrics::streams(double now_s) const {
  std::lock_guard lock(mutex_);
  auto copy = streams_;
  for (auto& [name, s] : copy) {
    auto it = in_rates_.find(name);
    s.in_fps = it == in_rates_.end() ? 0 : it->second.rate(now_s);
  }
  return copy;
}

std::map<std::pair<std::string, std::string>, AlgoCounters> Metrics::algorithms(double now_s) const {
  std::lock_guard lock(mutex_);
  auto copy = algos_;
  for (auto& [key, a] : copy) {
    auto it = out_rates_.find(key);
    a.out_fps = it == out_rates_.end() ? 0 : it->second.rate(now_s);
  }
  return copy;
}

static nlohmann::json stage_json(const StageStat& s) {
  return {{"count", s.count()},
          {"mean_ms", s.mean() * 1e3},
          {"ewma_ms", s.ewma() * 1e3},
          {"max_ms", s.max() * 1e3}};
}

void Metrics::add_counter_source(std::shared_ptr<const CounterSource> source) {
  std::lock_guard lock(mutex_);
  counter_sources_.push_back(std::move(source));
}

void Metrics::report_counters(CounterReport& out) const {
  std::vector<std::shared_ptr<const CounterSource>> sources;
  {
    std::lock_guard lock(mutex_);
    sources = counter_sources_;
  }
  for (const auto& source : sources) source->report(out);  // unlocked: a source takes its own locks
}

namespace {

// Each part's figures as one JSON object under its name: {"store": {"results_stored": 20, "commit": {...}}}.
class JsonCounterReport : public CounterReport {
 public:
  explicit JsonCounterReport(nlohmann::json& out) : out_(out) {}
  void counter(const CounterName& name, double value) override { out_[name.part][name.key] = number(value); }
  void gauge(const CounterName& name, double value) override { out_[name.part][name.key] = number(value); }
  void histogram(const CounterName& name, const StageStat& stat) override {
    out_[name.part][name.key] = stage_json(stat);
  }

 private:
  // Counts stay integers in JSON (20, not 20.0).
  static nlohmann::json number(double value) {
    if (std::trunc(value) == value && std::abs(value) < 9e15) return int64_t(value);
    return value;
  }
  nlohmann::json& out_;
};

}  // namespace

nlohmann::json Metrics::to_json(double now_s) const {
  nlohmann::json out = {{"streams", nlohmann::json::object()}};
  for (const auto& [name, s] : streams(now_s)) {
    out["streams"][name] = {{"frames_read", s.frames_read}, {"frames_skipped", s.frames_skipped},
                            {"reconnects", s.reconnects},   {"in_fps", s.in_fps},
                            {"read", stage_json(s.read)},   {"algorithms", nlohmann::json::object()}};
  }
  for (const auto& [key, a] : algorithms(now_s)) {
    out["streams"][key.first]["algorithms"][key.second] = {{"runs", a.runs},
                                                           {"runs_dropped", a.runs_dropped},
                                                           {"runs_failed", a.runs_failed},
                                                           {"out_fps", a.out_fps},
                                                           {"detections", a.detections},
                                                           {"queue_depth", a.queue_depth},
                                                           {"queue_capacity", a.queue_capacity},
                                                           {"resize", stage_json(a.resize)},
                                                           {"model", stage_json(a.model)},
                                                           {"post", stage_json(a.post)},
                                                           {"sink", stage_json(a.sink)},
                                                           {"total", stage_json(a.total)}};
  }
  JsonCounterReport parts(out);
  report_counters(parts);
  return out;
}

}  // namespace sf
