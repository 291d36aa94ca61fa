#include <cmath>
#include <map>

#include "sightflow/store.hpp"

namespace sf {

std::vector<RollupSample> rollup_samples(const Result& result) {
  std::map<std::string, int64_t> per_label;
  for (const auto& d : result.detections) ++per_label[d.label];
  std::vector<RollupSample> samples{{"*", int64_t(result.detections.size())}};
  for (auto& [label, count] : per_label) samples.push_back({label, count});
  return samples;
}

double bucket_start(double ts, double level_seconds) {
  return std::floor(ts / level_seconds) * level_seconds;
}

}  // namespace sf
