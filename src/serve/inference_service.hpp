#pragma once
// The models behind `sightflow serve`: every catalog (and built-in) model, loaded on first use, each
// behind one or more dynamic batchers that join concurrent requests into one forward pass (TorchServe's
// batch_size / max_batch_delay). Models that OpenCV 4.6 runs only with batch 1 are still queued and served
// in arrival order, by `instances` copies at most.
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/http_json.hpp"
#include "sightflow/model.hpp"
#include "sightflow/model_catalog.hpp"

namespace sf {

class ModelBatcher;

// A request the service refuses; `status` is the HTTP status it maps to (404 unknown model, 503 queue full,
// 400 bad settings), `type` the TorchServe-style error type.
using ServiceError = HttpError;

struct ServingSettings {
  int batch_size = 0;  // 0: the model's max_batch
  double max_batch_delay_ms = 10;
  int instances = 1;
};

class InferenceService {
 public:
  // `max_queue`: images waiting per model before requests are refused with 503. Reads the catalog at
  // model_locations() (throws CatalogError naming what is wrong).
  explicit InferenceService(size_t max_queue = 64);
  ~InferenceService();

  std::vector<std::string> model_names() const;  // what can be served: catalog models, then built-ins
  // Loads a model with these settings (replacing a loaded one; requests in flight finish on the old one).
  // Unset fields come from the catalog's `serving` block. Throws ServiceError (404, 400).
  void register_model(const std::string& name, std::optional<int> batch_size = {},
                      std::optional<double> max_batch_delay_ms = {}, std::optional<int> instances = {});
  // Runs the images through the model (loading it with its catalog settings on first use); one output per
  // image. Blocks until answered. Throws ServiceError (404 unknown, 503 queue full).
  std::vector<ModelOutput> predict(const std::string& name, std::span<const cv::Mat> images);
  // The model's task and classes (loads it).
  ModelInfo info(const std::string& name);
  // TorchServe's describe-model answer for one model: settings, whether loaded, batch statistics.
  nlohmann::json describe(const std::string& name) const;

 private:
  struct Served;
  std::shared_ptr<Served> load(const std::string& name, const ServingSettings& settings) const;
  std::shared_ptr<Served> served(const std::string& name);
  ServingSettings catalog_settings(const std::string& name) const;

  size_t max_queue_;
  ModelCatalog catalog_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Served>> models_;
};

}  // namespace sf
