#include "serve/inference_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "infer/model_batcher.hpp"

namespace sf {

struct InferenceService::Served {
  ServingSettings settings;
  std::vector<std::shared_ptr<ModelBatcher>> instances;
  ModelInfo info;
};

InferenceService::InferenceService(size_t max_queue)
    : max_queue_(max_queue), catalog_(ModelCatalog::load(model_locations().catalog)) {}
InferenceService::~InferenceService() = default;

std::vector<std::string> InferenceService::model_names() const {
  auto names = catalog_.names();
  for (const auto& n : builtin_model_names()) names.push_back(n);
  return names;
}

ServingSettings InferenceService::catalog_settings(const std::string& name) const {
  ServingSettings s;
  if (const auto* entry = catalog_.find(name)) {
    s.batch_size = entry->serving.batch_size;
    s.max_batch_delay_ms = entry->serving.max_batch_delay_ms;
    s.instances = entry->serving.instances;
  } else if (auto builtin = builtin_model_names();
             std::find(builtin.begin(), builtin.end(), name) == builtin.end()) {
    std::string known;
    for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
    throw ServiceError(404, "ModelNotFoundException",
                       "Model not found: " + name + " (served: " + known + ")");
  }
  return s;
}

std::shared_ptr<InferenceService::Served> InferenceService::load(const std::string& name,
                                                                 const ServingSettings& settings) const {
  auto served = std::make_shared<Served>();
  served->settings = settings;
  BatchOptions options;
  options.max_batch = settings.batch_size;
  options.max_delay_ms = settings.max_batch_delay_ms;
  options.open_clients = true;
  for (int i = 0; i < settings.instances; ++i) {
    try {
      served->instances.push_back(std::make_shared<ModelBatcher>(create_model(name), options));
    } catch (const std::invalid_argument& e) {
      throw ServiceError(404, "ModelNotFoundException", e.what());
    }
  }
  served->info = served->instances.front()->info();
  served->settings.batch_size = served->instances.front()->max_batch();
  spdlog::info("serve: model {} loaded (batch size {}, max batch delay {} ms, {} instance{})", name,
               served->settings.batch_size, settings.max_batch_delay_ms, settings.instances,
               settings.instances == 1 ? "" : "s");
  return served;
}

void InferenceService::register_model(const std::string& name, std::optional<int> batch_size,
                                      std::optional<double> max_batch_delay_ms,
                                      std::optional<int> instances) {
  auto settings = catalog_settings(name);
  if (batch_size) settings.batch_size = *batch_size;
  if (max_batch_delay_ms) settings.max_batch_delay_ms = *max_batch_delay_ms;
  if (instances) settings.instances = *instances;
  if (settings.batch_size < 0 || settings.instances < 1 || settings.instances > 64 ||
      !(settings.max_batch_delay_ms >= 0 && settings.max_batch_delay_ms <= 10000))
    throw ServiceError(400, "BadRequestException",
                       "batch_size must be >= 0, initial_workers within [1, 64], max_batch_delay within "
                       "[0, 10000] ms");
  auto served = load(name, settings);  // outside the lock: loading takes a while
  std::lock_guard lock(mutex_);
  models_[name] = served;
}

std::shared_ptr<InferenceService::Served> InferenceService::served(const std::string& name) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = models_.find(name); it != models_.end()) return it->second;
  }
  auto settings = catalog_settings(name);
  std::lock_guard lock(mutex_);
  // Loaded under the lock: concurrent first requests wait for one load instead of each loading a copy.
  auto& slot = models_[name];
  if (!slot) slot = load(name, settings);
  return slot;
}

ModelInfo InferenceService::info(const std::string& name) { return served(name)->info; }

std::vector<ModelOutput> InferenceService::predict(const std::string& name, std::span<const cv::Mat> images) {
  auto model = served(name);
  // The instance with the least work waiting; the queue bound counts every instance's.
  std::shared_ptr<ModelBatcher> best;
  size_t waiting = 0, least = SIZE_MAX;
  for (const auto& instance : model->instances) {
    auto pending = instance->pending_images();
    waiting += pending;
    if (pending < least) {
      least = pending;
      best = instance;
    }
  }
  if (waiting + images.size() > max_queue_)
    throw ServiceError(503, "ServiceUnavailableException",
                       "Model \"" + name +
                           "\" has no worker to serve inference request. Please use scale workers "
                           "API to add workers. (" +
                           std::to_string(waiting) + " images queued, limit " + std::to_string(max_queue_) +
                           ")");
  return best->submit(images, {}, nullptr);
}

nlohmann::json InferenceService::describe(const std::string& name) const {
  std::shared_ptr<Served> model;
  {
    std::lock_guard lock(mutex_);
    if (auto it = models_.find(name); it != models_.end()) model = it->second;
  }
  auto settings = model ? model->settings : catalog_settings(name);
  nlohmann::json workers = nlohmann::json::array();
  int64_t batches = 0, items = 0;
  std::map<std::string, int64_t> sizes;
  if (model) {
    for (size_t i = 0; i < model->instances.size(); ++i) {
      auto s = model->instances[i]->stats();
      workers.push_back({{"id", std::to_string(i)}, {"status", "READY"}});
      batches += s.batches;
      items += s.items;
      for (size_t n = 1; n < s.batch_sizes.size(); ++n)
        if (s.batch_sizes[n] > 0) sizes[std::to_string(n)] += s.batch_sizes[n];
    }
  }
  return nlohmann::json::array({{{"modelName", name},
                                 {"loaded", model != nullptr},
                                 {"batchSize", settings.batch_size},
                                 {"maxBatchDelay", settings.max_batch_delay_ms},
                                 {"minWorkers", settings.instances},
                                 {"maxWorkers", settings.instances},
                                 {"workers", workers},
                                 {"stats",
                                  {{"batches", batches},
                                   {"items", items},
                                   {"mean_batch_size", batches ? double(items) / double(batches) : 0.0},
                                   {"batch_sizes", sizes}}}}});
}

}  // namespace sf
