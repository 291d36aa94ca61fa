#include "serve/serve_metrics.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "pipeline/metric_families.hpp"

namespace sf {

ServeMetrics::ServeMetrics(const InferenceService& service)
    : service_(service),
      requests_("sightflow_inference_requests_total",
                "Prediction requests answered, by model and HTTP status.", {}),
      durations_("sightflow_inference_request_duration_seconds",
                 "Time to answer a prediction request, from its body read to its answer.", {}) {}

std::string ServeMetrics::model_label(const std::string& model) const {
  auto served = service_.model_names();
  return std::find(served.begin(), served.end(), model) != served.end() ? model : "unknown";
}

void ServeMetrics::request_done(const std::string& model, int status, double seconds) {
  auto label = model_label(model);
  requests_.Add({{"model", label}, {"code", std::to_string(status == -1 ? 200 : status)}}).Increment();
  const prometheus::Histogram::BucketBoundaries bounds(StageStat::kBuckets.begin(),
                                                       StageStat::kBuckets.end());
  durations_.Add({{"model", label}}, bounds).Observe(seconds);
}

std::vector<prometheus::MetricFamily> ServeMetrics::Collect() const {
  MetricFamilies out;
  out.add(requests_.Collect());
  out.add(durations_.Collect());
  for (const auto& name : service_.model_names()) {
    auto described = service_.describe(name)[0];
    if (!described["loaded"].get<bool>()) continue;
    const auto& stats = described["stats"];
    std::map<int, uint64_t> sizes;  // images per pass -> passes
    for (const auto& [size, n] : stats["batch_sizes"].items()) sizes[std::stoi(size)] = n.get<uint64_t>();
    prometheus::ClientMetric sample;
    sample.label = {{"model", name}};
    auto& h = sample.histogram;
    h.sample_count = stats["batches"].get<uint64_t>();
    h.sample_sum = stats["items"].get<double>();
    for (int le : {1, 2, 4, 8, 16, 32}) {
      uint64_t cumulative = 0;
      for (const auto& [size, n] : sizes)
        if (size <= le) cumulative += n;
      h.bucket.push_back({cumulative, double(le)});
    }
    h.bucket.push_back({h.sample_count, std::numeric_limits<double>::infinity()});
    out.add({{"sightflow_inference_batch_size",
              "Images per forward pass, by model.",
              prometheus::MetricType::Histogram,
              {sample}}});
  }
  return out.families();
}

}  // namespace sf
