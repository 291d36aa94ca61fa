#pragma once
// A process's one Prometheus registry, behind its /metrics (`run --serve`, `serve`, `worker --metrics`):
// prometheus-cpp's Registry for metrics updated as things happen, plus sources asked for their figures at
// each scrape (pipelines, the inference API, a worker, the bus), plus what every role exports:
// sightflow_build_info and the process_* metrics. text() is the exposition format, written by
// prometheus-cpp's TextSerializer with the families of all sources merged by name.
#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/metric_families.hpp"

namespace sf {

class MetricsRegistry {
 public:
  MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  // Collected at each scrape for as long as its owner keeps it; thread-safe.
  void add(std::weak_ptr<const prometheus::Collectable> source);
  // Every family of every source; a source that throws (Redis unreachable) fails the whole scrape, so
  // that Prometheus sees a failed scrape rather than series that vanish.
  std::string text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<const prometheus::Collectable>> sources_;
};

// A source whose figures a function adds at each scrape.
class FamilySource : public prometheus::Collectable {
 public:
  explicit FamilySource(std::function<void(MetricFamilies&)> collect) : collect_(std::move(collect)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<void(MetricFamilies&)> collect_;
};

}  // namespace sf
