#pragma once
// The standard process_* metrics other Prometheus clients export (CPU time, memory, file descriptors,
// start time, threads), read from /proc/self at each scrape. A metric that cannot be read is left out.
#include <prometheus/collectable.h>

namespace sf {

class ProcessMetrics : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace sf
