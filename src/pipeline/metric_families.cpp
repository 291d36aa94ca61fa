#include "pipeline/metric_families.hpp"

#include <prometheus/text_serializer.h>

#include <limits>

namespace sf {

MetricLabels with_label(MetricLabels labels, std::string name, std::string value) {
  labels.push_back({std::move(name), std::move(value)});
  return labels;
}

prometheus::MetricFamily& MetricFamilies::family(const std::string& name, const std::string& help,
                                                 prometheus::MetricType type) {
  auto [it, added] = index_.try_emplace(name, families_.size());
  if (added) families_.push_back({name, help, type, {}});
  return families_[it->second];
}

void MetricFamilies::counter(const std::string& name, const std::string& help, const MetricLabels& labels,
                             double value) {
  prometheus::ClientMetric sample;
  sample.label = labels;
  sample.counter.value = value;
  family(name, help, prometheus::MetricType::Counter).metric.push_back(std::move(sample));
}

void MetricFamilies::gauge(const std::string& name, const std::string& help, const MetricLabels& labels,
                           double value) {
  prometheus::ClientMetric sample;
  sample.label = labels;
  sample.gauge.value = value;
  family(name, help, prometheus::MetricType::Gauge).metric.push_back(std::move(sample));
}

void MetricFamilies::histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                               const StageStat& stat) {
  prometheus::ClientMetric sample;
  sample.label = labels;
  auto& h = sample.histogram;
  h.sample_count = uint64_t(stat.count());
  h.sample_sum = stat.sum();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < StageStat::kBuckets.size(); ++i) {
    cumulative += uint64_t(stat.bucket_counts()[i]);
    h.bucket.push_back({cumulative, StageStat::kBuckets[i]});
  }
  h.bucket.push_back({h.sample_count, std::numeric_limits<double>::infinity()});
  family(name, help, prometheus::MetricType::Histogram).metric.push_back(std::move(sample));
}

void MetricFamilies::add(const std::vector<prometheus::MetricFamily>& families) {
  for (const auto& f : families) {
    auto& into = family(f.name, f.help, f.type);
    into.metric.insert(into.metric.end(), f.metric.begin(), f.metric.end());
  }
}

std::string MetricFamilies::text() const { return prometheus::TextSerializer().Serialize(families_); }

}  // namespace sf
