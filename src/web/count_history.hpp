#pragma once
// Counts over time kept in memory, for the dashboard's chart when no store is configured (`serve --redis`)
// and for the newest seconds before the store's roll-ups are committed: per (stream, algo), one bucket per
// second for the last `keep_s` seconds, with per-label sums so that a label absent from a result counts 0
// (the same rule as the store's `counts` view). Thread-safe.
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "sightflow/result.hpp"

namespace sf {

struct CountPoint {
  double t = 0;  // bucket start, unix seconds
  double avg = 0;
  int64_t min = 0, max = 0, samples = 0;
};

class CountHistory {
 public:
  explicit CountHistory(double keep_s = 3600) : keep_s_(keep_s) {}
  // Adds one result's counts ("*" = all detections, and one per label present) at its capture time.
  void add(const Result& result);
  // Points of `label` ("*": total) in [from, to], re-bucketed to `step_s` (a multiple of 1 s).
  std::vector<CountPoint> points(const std::string& stream, const std::string& algo, const std::string& label,
                                 double from, double to, double step_s) const;
  std::vector<std::string> algorithms(const std::string& stream) const;
  void forget(const std::string& stream);  // every series of `stream`

 private:
  struct LabelStats {
    int64_t sum = 0, min = 0, max = 0, samples = 0;  // over the results where the label appeared
  };
  struct Bucket {
    double t = 0;
    int64_t samples = 0;  // results in the bucket
    std::map<std::string, LabelStats> labels;
  };
  double keep_s_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::deque<Bucket>> series_;
};

}  // namespace sf
