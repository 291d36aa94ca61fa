#pragma once
// Prometheus metric families gathered for one scrape from figures kept elsewhere (pipelines' Metrics, a
// worker's counters, the bus): samples added in any order, by any number of sources, come out grouped
// under one family per name, as the exposition format requires. prometheus-cpp's TextSerializer writes
// them (escaping label values); names follow the naming guide: `sightflow_` prefix, base units
// (`_seconds`), `_total` for counters.
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <vector>

#include "sightflow/metrics.hpp"

namespace sf {

// Label pairs in the order they are written (stream before algo reads better than sorted).
using MetricLabels = std::vector<prometheus::ClientMetric::Label>;

class MetricFamilies {
 public:
  void counter(const std::string& name, const std::string& help, const MetricLabels& labels, double value);
  void gauge(const std::string& name, const std::string& help, const MetricLabels& labels, double value);
  // A latency histogram from a StageStat (its buckets are per bucket; the exposition's are cumulative).
  void histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                 const StageStat& stat);
  // Families collected elsewhere (a prometheus-cpp Family or Registry); samples join a family of the
  // same name.
  void add(const std::vector<prometheus::MetricFamily>& families);
  const std::vector<prometheus::MetricFamily>& families() const { return families_; }
  std::string text() const;  // the text exposition format (version 0.0.4)

 private:
  prometheus::MetricFamily& family(const std::string& name, const std::string& help,
                                   prometheus::MetricType type);
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, size_t> index_;  // name -> position in families_
};

// `labels` with one more pair at the end.
MetricLabels with_label(MetricLabels labels, std::string name, std::string value);

}  // namespace sf
