#pragma once
// The inference API's Prometheus figures:
//   sightflow_inference_requests_total{model, code}           prediction requests answered, by HTTP status
//   sightflow_inference_request_duration_seconds{model}       histogram: request handled, body read to answer
//   sightflow_inference_batch_size{model}                     histogram: images per forward pass (loaded
//                                                             models, from the service's statistics)
// A model name the service does not serve counts as model="unknown": the name is the client's, and each
// new one would otherwise add series without bound.
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>

#include <string>

#include "serve/inference_service.hpp"

namespace sf {

class ServeMetrics : public prometheus::Collectable {
 public:
  explicit ServeMetrics(const InferenceService& service);
  // `status` -1: not set by the handler, so the library answers 200.
  void request_done(const std::string& model, int status, double seconds);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string model_label(const std::string& model) const;

  const InferenceService& service_;
  prometheus::Family<prometheus::Counter> requests_;
  prometheus::Family<prometheus::Histogram> durations_;
};

}  // namespace sf
