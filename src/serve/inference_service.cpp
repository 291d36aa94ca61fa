#include "serve/inference_service.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <regex>

#include "infer/model_batcher.hpp"

namespace sf {

namespace {

constexpr int kMaxWorkers = 64;

// Now as TorchServe writes a worker's startTime: "2018-10-02T13:44:53.034Z".
std::string utc_now_iso() {
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  return std::string(text, n) + "." + std::to_string(1000 + millis).substr(1) + "Z";
}

}  // namespace

std::string model_of_url(std::string url) {
  if (auto slash = url.find_last_of('/'); slash != std::string::npos) url.erase(0, slash + 1);
  if (url.ends_with(".mar")) url.resize(url.size() - 4);
  return url;
}

struct InferenceService::Served {
  std::string model;  // the catalog or built-in model it runs
  ServingSettings settings;
  std::shared_ptr<ModelBatcher> batcher;  // one queue, settings.instances instances
  std::vector<std::string> started;       // per instance
  ModelInfo info;
  bool at_startup = false;
};

InferenceService::InferenceService(size_t max_queue)
    : max_queue_(max_queue), catalog_(ModelCatalog::load(model_locations().catalog)) {}
InferenceService::~InferenceService() = default;

bool InferenceService::in_catalog(const std::string& name) const {
  auto builtin = builtin_model_names();
  return catalog_.find(name) || std::find(builtin.begin(), builtin.end(), name) != builtin.end();
}

std::vector<std::string> InferenceService::model_names() const {
  auto names = catalog_.names();
  for (const auto& n : builtin_model_names()) names.push_back(n);
  std::lock_guard lock(mutex_);
  for (const auto& [name, served] : models_)
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return names;
}

ServiceError InferenceService::not_found(const std::string& name) const {
  std::string known;
  for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  return ServiceError(404, "ModelNotFoundException", "Model not found: " + name + " (served: " + known + ")");
}

ServingSettings InferenceService::catalog_settings(const std::string& model) const {
  ServingSettings s;
  if (const auto* entry = catalog_.find(model)) {
    s.batch_size = entry->serving.batch_size;
    s.max_batch_delay_ms = entry->serving.max_batch_delay_ms;
    s.instances = entry->serving.instances;
  } else if (!in_catalog(model)) {
    throw not_found(model);
  }
  return s;
}

std::shared_ptr<InferenceService::Served> InferenceService::load(const std::string& model,
                                                                 const ServingSettings& settings) const {
  auto served = std::make_shared<Served>();
  served->model = model;
  served->settings = settings;
  BatchOptions options;
  options.max_batch = settings.batch_size;
  options.max_delay_ms = settings.max_batch_delay_ms;
  options.open_clients = true;
  try {
    // With no worker the model is still read once: its task and batch size answer describe and predict.
    served->batcher =
        std::make_shared<ModelBatcher>([model] { return create_model(model); }, settings.instances, options);
    served->started.assign(size_t(settings.instances), utc_now_iso());
    served->info = served->batcher->info();
    served->settings.batch_size = served->batcher->max_batch();
  } catch (const std::invalid_argument& e) {
    throw ServiceError(404, "ModelNotFoundException", e.what());
  }
  spdlog::info("serve: model {} loaded (batch size {}, max batch delay {} ms, {} instance{})", model,
               served->settings.batch_size, settings.max_batch_delay_ms, settings.instances,
               settings.instances == 1 ? "" : "s");
  return served;
}

ServingSettings InferenceService::register_model(const Registration& r) {
  static const std::regex valid_name("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  if (!std::regex_match(r.name, valid_name))
    throw ServiceError(400, "BadRequestException",
                       "model_name '" + r.name + "': letters, digits, '_', '.' and '-', at most 64");
  if (r.name != r.model && in_catalog(r.name))
    throw ServiceError(
        409, "ConflictStatusException",
        "Model \"" + r.name + "\" is a model of the catalog: register " + r.model + " under another name");
  auto settings = catalog_settings(r.model);
  if (r.batch_size) settings.batch_size = *r.batch_size;
  if (r.max_batch_delay_ms) settings.max_batch_delay_ms = *r.max_batch_delay_ms;
  if (r.instances) settings.instances = *r.instances;
  if (settings.batch_size < 0 || settings.instances < 0 || settings.instances > kMaxWorkers ||
      !(settings.max_batch_delay_ms >= 0 && settings.max_batch_delay_ms <= 10000))
    throw ServiceError(400, "BadRequestException",
                       "batch_size must be >= 0, initial_workers within [0, 64], max_batch_delay within "
                       "[0, 10000] ms");
  auto served = load(r.model, settings);  // outside the lock: loading takes a while
  served->at_startup = r.at_startup;
  std::lock_guard lock(mutex_);
  models_[r.name] = served;
  return served->settings;
}

void InferenceService::scale(const std::string& name, int workers) {
  if (workers < 0 || workers > kMaxWorkers)
    throw ServiceError(400, "BadRequestException", "min_worker must be within [0, 64]");
  auto current = served(name);
  auto scaled = std::make_shared<Served>(*current);
  scaled->settings.instances = workers;
  try {
    scaled->batcher->scale(workers);  // the queue stays; requests waiting are served by the new count
  } catch (const std::invalid_argument& e) {
    throw ServiceError(404, "ModelNotFoundException", e.what());
  }
  scaled->started.resize(size_t(workers), utc_now_iso());
  std::lock_guard lock(mutex_);
  models_[name] = scaled;
  spdlog::info("serve: model {} scaled to {} worker{}", name, workers, workers == 1 ? "" : "s");
}

void InferenceService::unregister(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (models_.erase(name) == 0) {
    if (in_catalog(name))
      throw ServiceError(404, "ModelNotFoundException", "Model \"" + name + "\" is not loaded");
    throw ServiceError(404, "ModelNotFoundException", "Model not found: " + name);
  }
  spdlog::info("serve: model {} unregistered", name);
}

void InferenceService::check_version(const std::string& name, const std::string& version) const {
  if (!loaded(name) && !in_catalog(name)) throw not_found(name);
  if (version != kModelVersion)
    throw ServiceError(404, "ModelVersionNotFoundException",
                       "Model version: " + version + " does not exist for model: " + name +
                           " (served: " + kModelVersion + ")");
}

std::shared_ptr<InferenceService::Served> InferenceService::loaded(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second;
}

std::shared_ptr<InferenceService::Served> InferenceService::served(const std::string& name) {
  if (auto model = loaded(name)) return model;
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
  // More images than may ever wait: retrying cannot help, unlike a full queue.
  if (images.size() > max_queue_)
    throw ServiceError(413, "RequestEntityTooLargeException",
                       "a request of " + std::to_string(images.size()) +
                           " images never fits the queue of model \"" + name + "\", which holds " +
                           std::to_string(max_queue_) + " (--max-queue): send at most that many per request");
  if (model->batcher->instances() == 0)
    throw ServiceError(503, "ServiceUnavailableException",
                       "Model \"" + name +
                           "\" has no worker to serve inference request. Please use scale workers API to add "
                           "workers: PUT /models/" +
                           name + "?min_worker=1");
  // One queue for every instance; its bound counts the images waiting in it.
  size_t waiting = model->batcher->pending_images();
  if (waiting + images.size() > max_queue_)
    throw ServiceError(
        503, "ServiceUnavailableException",
        "Model \"" + name + "\" is busy: " + std::to_string(waiting) + " images wait and its queue holds " +
            std::to_string(max_queue_) +
            " (--max-queue); retry after Retry-After seconds, or add workers with PUT /models/" + name +
            "?min_worker=N");
  return model->batcher->submit(images, {}, nullptr);
}

nlohmann::ordered_json InferenceService::describe(const std::string& name) const {
  auto model = loaded(name);
  auto settings = model ? model->settings : catalog_settings(name);
  nlohmann::ordered_json workers = nlohmann::ordered_json::array();
  int64_t batches = 0, items = 0;
  size_t pending = 0;
  std::map<std::string, int64_t> sizes;
  if (model) {
    auto s = model->batcher->stats();
    pending = model->batcher->pending_images();
    for (size_t i = 0; i < model->started.size(); ++i) {
      workers.push_back({{"id", std::to_string(9000 + i)},
                         {"startTime", model->started[i]},
                         {"status", "READY"},
                         {"memoryUsage", 0},
                         {"pid", int64_t(::getpid())},
                         {"gpu", false},
                         {"gpuUsage", "N/A"}});
    }
    batches = s.batches;
    items = s.items;
    for (size_t n = 1; n < s.batch_sizes.size(); ++n)
      if (s.batch_sizes[n] > 0) sizes[std::to_string(n)] += s.batch_sizes[n];
  }
  return nlohmann::ordered_json::array(
      {{{"modelName", name},
        {"modelVersion", kModelVersion},
        {"modelUrl", model ? model->model : name},
        {"runtime", "opencv"},
        {"minWorkers", settings.instances},
        {"maxWorkers", settings.instances},
        {"batchSize", settings.batch_size},
        {"maxBatchDelay", settings.max_batch_delay_ms},
        {"loadedAtStartup", model && model->at_startup},
        {"workers", workers},
        {"jobQueueStatus",
         {{"remainingCapacity", max_queue_ - std::min(pending, max_queue_)}, {"pendingRequests", pending}}},
        {"loaded", model != nullptr},
        {"stats",
         {{"batches", batches},
          {"items", items},
          {"mean_batch_size", batches ? double(items) / double(batches) : 0.0},
          {"batch_sizes", sizes}}}}});
}

}  // namespace sf
