#include "pipeline/metrics_registry.hpp"

#include <prometheus/gauge.h>

#include "common/build_info.hpp"
#include "pipeline/process_metrics.hpp"

namespace sf {

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {
  const auto& build = build_info();
  prometheus::BuildGauge()
      .Name("sightflow_build_info")
      .Help("Always 1; the labels tell the version, git revision, OpenCV and FFmpeg of this binary.")
      .Register(*registry_)
      .Add({{"version", build.version},
            {"revision", build.git_revision},
            {"opencv", build.opencv_version},
            {"ffmpeg", build.ffmpeg_version}})
      .Set(1);
  sources_.push_back(registry_);
  static const auto process = std::make_shared<ProcessMetrics>();
  sources_.push_back(process);
}

void MetricsRegistry::add(std::weak_ptr<const prometheus::Collectable> source) {
  std::lock_guard lock(mutex_);
  std::erase_if(sources_, [](const auto& s) { return s.expired(); });  // owners that have gone
  sources_.push_back(std::move(source));
}

std::string MetricsRegistry::text() const {
  std::vector<std::shared_ptr<const prometheus::Collectable>> live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& source : sources_)
      if (auto s = source.lock()) live.push_back(std::move(s));
  }
  MetricFamilies all;
  for (const auto& source : live) all.add(source->Collect());  // unlocked: sources take their own locks
  return all.text();
}

std::vector<prometheus::MetricFamily> FamilySource::Collect() const {
  MetricFamilies out;
  collect_(out);
  return out.families();
}

}  // namespace sf
