#include "web/analytics_history.hpp"

#include <algorithm>
#include <cmath>

#include "sightflow/store.hpp"

namespace sf {

void AnalyticsHistory::add(const Result& result) {
  const auto lines = line_rollup_samples(result);
  const auto zones = zone_rollup_samples(result);
  if (lines.empty() && zones.empty()) return;
  const double t = bucket_start(result.capture_ts > 0 ? result.capture_ts : result.ts, 1.0);
  std::lock_guard lock(mutex_);
  auto& buckets = series_[{result.stream, result.algo}];
  // Mostly in time order; an older result finds its place.
  auto newest_first =
      std::find_if(buckets.rbegin(), buckets.rend(), [t](const Bucket& b) { return b.t <= t; });
  auto it = newest_first != buckets.rend() && newest_first->t == t
                ? std::prev(newest_first.base())
                : buckets.insert(newest_first.base(), Bucket{t, {}, {}});
  for (const auto& l : lines) {
    auto& c = it->lines[l.line];
    ++c.samples;
    c.in += l.in;
    c.out += l.out;
  }
  for (const auto& z : zones) {
    auto& o = it->zones[z.zone];
    o.min = o.samples ? std::min(o.min, z.count) : z.count;
    o.max = o.samples ? std::max(o.max, z.count) : z.count;
    o.sum += z.count;
    ++o.samples;
  }
  while (buckets.front().t < buckets.back().t - keep_s_) buckets.pop_front();
}

std::vector<LineBucket> AnalyticsHistory::lines(const SeriesQuery& q, double step_s) const {
  step_s = std::max(1.0, std::round(step_s));
  std::map<std::pair<std::string, double>, LineBucket> merged;  // by line, then time
  {
    std::lock_guard lock(mutex_);
    auto found = series_.find({q.stream, q.algo});
    if (found == series_.end()) return {};
    for (const auto& b : found->second) {
      if (b.t < bucket_start(q.from, step_s) || b.t > q.to) continue;
      for (const auto& [line, c] : b.lines) {
        if (!q.name.empty() && line != q.name) continue;
        const double t = bucket_start(b.t, step_s);
        auto& m = merged[{line, t}];
        m.line = line;
        m.t = t;
        m.samples += c.samples;
        m.in += c.in;
        m.out += c.out;
      }
    }
  }
  std::vector<LineBucket> out;
  for (auto& [key, bucket] : merged) out.push_back(std::move(bucket));
  return out;
}

std::vector<ZoneBucket> AnalyticsHistory::zones(const SeriesQuery& q, double step_s) const {
  step_s = std::max(1.0, std::round(step_s));
  std::map<std::pair<std::string, double>, Occupancy> merged;
  {
    std::lock_guard lock(mutex_);
    auto found = series_.find({q.stream, q.algo});
    if (found == series_.end()) return {};
    for (const auto& b : found->second) {
      if (b.t < bucket_start(q.from, step_s) || b.t > q.to) continue;
      for (const auto& [zone, o] : b.zones) {
        if (!q.name.empty() && zone != q.name) continue;
        auto& m = merged[{zone, bucket_start(b.t, step_s)}];
        m.min = m.samples ? std::min(m.min, o.min) : o.min;
        m.max = m.samples ? std::max(m.max, o.max) : o.max;
        m.sum += o.sum;
        m.samples += o.samples;
      }
    }
  }
  std::vector<ZoneBucket> out;
  for (const auto& [key, o] : merged)
    out.push_back({key.first, key.second, double(o.sum) / double(o.samples), o.min, o.max, o.samples});
  return out;
}

std::vector<std::string> AnalyticsHistory::algorithms(const std::string& stream) const {
  std::vector<std::string> out;
  std::lock_guard lock(mutex_);
  for (const auto& [key, buckets] : series_)
    if (key.first == stream) out.push_back(key.second);
  return out;
}

void AnalyticsHistory::forget(const std::string& stream) {
  std::lock_guard lock(mutex_);
  for (auto it = series_.begin(); it != series_.end();)
    it = it->first.first == stream ? series_.erase(it) : std::next(it);
}

}  // namespace sf
