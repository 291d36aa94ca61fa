#pragma once
// The Prometheus text exposition format (version 0.0.4), written family by family: samples added in any
// order (several pipelines, several sources) come out grouped under one HELP and TYPE per metric name, as
// the format requires. Names follow the conventions: `sightflow_` prefix, base units (`_seconds`),
// `_total` for counters.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sightflow/metrics.hpp"

namespace sf {

using PrometheusLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  void counter(const std::string& name, const std::string& help, const PrometheusLabels& labels,
               double value);
  void gauge(const std::string& name, const std::string& help, const PrometheusLabels& labels, double value);
  // A latency histogram from a StageStat (its buckets are not cumulative; the exposition's are).
  void histogram(const std::string& name, const std::string& help, const PrometheusLabels& labels,
                 const StageStat& stat);
  std::string str() const;

 private:
  struct Family {
    std::string help, type;
    std::vector<std::string> samples;
  };
  Family& family(const std::string& name, const std::string& help, const std::string& type);
  std::vector<std::string> order_;
  std::map<std::string, Family> families_;
};

// `{a="x",b="y"}` with values escaped (backslash, quote, newline); empty for no labels.
std::string format_labels(const PrometheusLabels& labels);

// A pipeline's metrics: frames read and skipped, reconnects, in/out fps, runs, drops, detections, queue
// depths, per-stage latency histograms, then what its sinks count themselves (Metrics::report_counters:
// results stored, webhook deliveries, ...). `pipeline_labels` tell one pipeline's sink series from
// another's when a process runs several.
void add_pipeline_metrics(PrometheusText& out, const Metrics& metrics, double now_s,
                          const PrometheusLabels& pipeline_labels = {});

}  // namespace sf
