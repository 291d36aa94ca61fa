#pragma once
// Line crossings and zone occupancy over time kept in memory, as count_history keeps detection counts:
// the dashboard's crossings chart without a store (`serve --redis`) and for the newest seconds before the
// store's roll-ups commit. Per (stream, algo), one bucket per second for the last `keep_s` seconds, filled
// by the same samples as the store's line_rollups and zone_rollups. Thread-safe.
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "sightflow/result.hpp"
#include "sightflow/store_reads.hpp"

namespace sf {

class AnalyticsHistory {
 public:
  explicit AnalyticsHistory(double keep_s = 3600) : keep_s_(keep_s) {}
  void add(const Result& result);  // at its capture time; results without lines or zones add nothing
  // Buckets in [from, to] re-bucketed to `step_s` (a multiple of 1 s); query.name picks one line or zone.
  std::vector<LineBucket> lines(const SeriesQuery& query, double step_s) const;
  std::vector<ZoneBucket> zones(const SeriesQuery& query, double step_s) const;
  std::vector<std::string> algorithms(const std::string& stream) const;  // those with lines or zones
  void forget(const std::string& stream);                                // every series of `stream`

 private:
  struct Crossings {
    int64_t samples = 0, in = 0, out = 0;
  };
  struct Occupancy {
    int64_t samples = 0, sum = 0, min = 0, max = 0;
  };
  struct Bucket {
    double t = 0;
    std::map<std::string, Crossings> lines;
    std::map<std::string, Occupancy> zones;
  };
  double keep_s_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::deque<Bucket>> series_;
};

}  // namespace sf
