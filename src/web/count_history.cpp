#include "web/count_history.hpp"

#include <algorithm>
#include <cmath>

#include "sightflow/store.hpp"

namespace sf {

void CountHistory::add(const Result& result) {
  double t = bucket_start(result.capture_ts > 0 ? result.capture_ts : result.ts, 1.0);
  std::lock_guard lock(mutex_);
  auto& buckets = series_[{result.stream, result.algo}];
  // Results mostly arrive in time order; an older one (a slower algorithm, a clock step) finds its place.
  auto newest_first =
      std::find_if(buckets.rbegin(), buckets.rend(), [t](const Bucket& b) { return b.t <= t; });
  auto it = newest_first != buckets.rend() && newest_first->t == t
                ? std::prev(newest_first.base())
                : buckets.insert(newest_first.base(), Bucket{t, 0, {}});
  Bucket& bucket = *it;
  ++bucket.samples;
  for (const auto& sample : rollup_samples(result)) {
    auto& s = bucket.labels[sample.label];
    s.min = s.samples ? std::min(s.min, sample.value) : sample.value;
    s.max = s.samples ? std::max(s.max, sample.value) : sample.value;
    s.sum += sample.value;
    ++s.samples;
  }
  while (buckets.front().t < buckets.back().t - keep_s_) buckets.pop_front();
}

std::vector<CountPoint> CountHistory::points(const std::string& stream, const std::string& algo,
                                             const std::string& label, double from, double to,
                                             double step_s) const {
  step_s = std::max(1.0, std::round(step_s));
  std::vector<CountPoint> out;
  std::lock_guard lock(mutex_);
  auto found = series_.find({stream, algo});
  if (found == series_.end()) return out;
  struct Acc {
    int64_t samples = 0, sum = 0, present = 0, min = 0, max = 0;
  };
  std::map<double, Acc> merged;
  for (const auto& b : found->second) {
    if (b.t < from || b.t > to) continue;
    auto& a = merged[bucket_start(b.t, step_s)];
    a.samples += b.samples;
    auto l = b.labels.find(label);
    if (l == b.labels.end()) continue;
    a.min = a.present ? std::min(a.min, l->second.min) : l->second.min;
    a.max = a.present ? std::max(a.max, l->second.max) : l->second.max;
    a.present += l->second.samples;
    a.sum += l->second.sum;
  }
  for (const auto& [t, a] : merged) {
    if (a.samples == 0) continue;
    CountPoint p;
    p.t = t;
    p.samples = a.samples;
    p.avg = double(a.sum) / double(a.samples);
    p.min = a.present < a.samples ? 0 : a.min;
    p.max = a.present ? a.max : 0;
    out.push_back(p);
  }
  return out;
}

std::vector<std::string> CountHistory::algorithms(const std::string& stream) const {
  std::vector<std::string> out;
  std::lock_guard lock(mutex_);
  for (const auto& [key, buckets] : series_)
    if (key.first == stream) out.push_back(key.second);
  return out;
}

void CountHistory::forget(const std::string& stream) {
  std::lock_guard lock(mutex_);
  for (auto it = series_.begin(); it != series_.end();)
    it = it->first.first == stream ? series_.erase(it) : std::next(it);
}

}  // namespace sf
