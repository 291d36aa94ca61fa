#include "sightflow/model_pool.hpp"

#include <algorithm>
#include <atomic>
#include <opencv2/core/utility.hpp>
#include <thread>

#include "infer/model_batcher.hpp"
#include "infer/model_params.hpp"

namespace sf {

ModelPool::ModelPool() = default;
ModelPool::~ModelPool() = default;

std::shared_ptr<Model> ModelPool::acquire(const std::string& name, const ModelParams& params) {
  std::string key = name;
  for (const auto& [k, v] : params) key += "\n" + k + "=" + v;
  std::lock_guard lock(mutex_);
  for (auto& [existing, shared] : batchers_) {
    if (existing == key) return shared.client();
  }
  // The batcher's own parameters are read here; everything else belongs to the model.
  ModelParams model_params = params;
  BatchOptions options;
  ParamReader p(name, params);
  // Never more than the catalog's max_batch in practice; the bounds keep the figures sane before that.
  options.max_batch = p.integer("max_batch", options.max_batch, 0, 1024);
  options.max_delay_ms = p.number("max_delay_ms", options.max_delay_ms, 0, 10000);
  options.ahead = p.integer("ahead", options.ahead, 1, 1024);
  const int instances = p.integer("instances", 0, 0, 64);
  for (const char* own : {"max_batch", "max_delay_ms", "ahead", "instances"}) model_params.erase(own);
  auto batcher = std::make_shared<ModelBatcher>(
      [name, model_params] { return create_model(name, model_params); }, std::max(instances, 1), options);
  batchers_.emplace_back(key, Shared{batcher, instances == 0});
  return batchers_.back().second.client();
}

namespace {
std::atomic<bool> opencv_threads_fixed{false};
}  // namespace

void ModelPool::fix_opencv_threads(int threads) {
  cv::setNumThreads(threads);
  opencv_threads_fixed = true;
}

std::shared_ptr<Model> ModelPool::Shared::client() {
  auto handle = batcher->client();
  // One instance per client up to the cores: a client (one stream's algorithm) has at most one request
  // waiting, so instances beyond the clients would idle (bench/RESULTS.md, "Many cameras").
  if (automatic) {
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    const int wanted = std::min(cores, batcher->clients());
    if (wanted > batcher->instances()) batcher->scale(wanted);
    if (wanted > 1 && !opencv_threads_fixed) cv::setNumThreads(1);
  }
  return handle;
}

std::vector<BatchStats> ModelPool::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<BatchStats> out;
  for (const auto& [key, shared] : batchers_) out.push_back(shared.batcher->stats());
  return out;
}

}  // namespace sf
