#pragma once
// The models behind `sightflow serve`: every catalog (and built-in) model, loaded on first use, each
// behind a dynamic batcher that joins concurrent requests into one forward pass (TorchServe's
// batch_size / max_batch_delay) and runs them on `instances` copies (TorchServe's workers) fed from its one
// queue, as `run` does with a shared model. Models that OpenCV 4.6 runs only with batch 1 are still queued
// and served in arrival order. A model may also be registered
// under another name (TorchServe's model_name), scaled, and unregistered.
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
// 413 more images than the queue holds, 400 bad settings, 409 a name taken), `type` the TorchServe-style
// error type.
using ServiceError = HttpError;

// Every model is served in one version (TorchServe's default for an archive).
inline constexpr const char* kModelVersion = "1.0";

struct ServingSettings {
  int batch_size = 0;  // 0: the model's max_batch
  double max_batch_delay_ms = 10;
  int instances = 1;  // workers; 0: registered, but requests get 503 until scaled up
};

// POST /models: serve `model` (a catalog or built-in name) as `name`; unset settings come from the
// catalog's `serving` block.
struct Registration {
  std::string name;
  std::string model;
  std::optional<int> batch_size;
  std::optional<double> max_batch_delay_ms;
  std::optional<int> instances;
  bool at_startup = false;  // --preload: shown as loadedAtStartup
};

// The model a TorchServe archive URL or file names ("https://host/x.mar", "store/x.mar", "x"): "x".
std::string model_of_url(std::string url);

class InferenceService {
 public:
  // `max_queue`: images waiting per model before requests are refused with 503. Reads the catalog at
  // model_locations() (throws CatalogError naming what is wrong).
  explicit InferenceService(size_t max_queue = 64);
  ~InferenceService();

  std::vector<std::string> model_names() const;  // catalog models, built-ins, then names registered over them
  // Loads a model with these settings (replacing one of that name; requests in flight finish on the old
  // one) and returns them. Throws ServiceError (404 unknown model, 400 bad setting or name, 409 a name
  // that is another model's).
  ServingSettings register_model(const Registration& registration);
  // Sets the number of workers (0..64) of a model, loading it if needed; its queue stays (a removed
  // worker finishes its batch; at 0, what waits is answered with an error). Throws ServiceError (404, 400).
  void scale(const std::string& name, int workers);
  // Unloads a model (a catalog model loads again on its next request; a name registered over another
  // model is gone). Requests in flight finish. Throws ServiceError (404 when not loaded).
  void unregister(const std::string& name);
  // Throws ServiceError 404 unless `name` is served in `version`.
  void check_version(const std::string& name, const std::string& version) const;
  // Runs the images through the model (loading it with its catalog settings on first use); one output per
  // image. Blocks until answered. Throws ServiceError (404 unknown, 503 queue full or no worker, 413 more
  // images than the queue holds).
  std::vector<ModelOutput> predict(const std::string& name, std::span<const cv::Mat> images);
  // The model's task and classes (loads it).
  ModelInfo info(const std::string& name);
  // TorchServe's describe-model answer for one model: settings, workers, queue, plus whether it is loaded
  // and its batch statistics.
  nlohmann::ordered_json describe(const std::string& name) const;

 private:
  struct Served;
  std::shared_ptr<Served> load(const std::string& model, const ServingSettings& settings) const;
  std::shared_ptr<Served> served(const std::string& name);
  std::shared_ptr<Served> loaded(const std::string& name) const;  // nullptr when not loaded
  bool in_catalog(const std::string& name) const;                 // a catalog or built-in model
  ServingSettings catalog_settings(const std::string& model) const;
  ServiceError not_found(const std::string& name) const;

  size_t max_queue_;
  ModelCatalog catalog_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Served>> models_;  // loaded, by the name they are served under
};

}  // namespace sf
