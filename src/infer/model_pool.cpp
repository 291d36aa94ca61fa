#include "sightflow/model_pool.hpp"

#include "infer/model_batcher.hpp"
#include "infer/model_params.hpp"

namespace sf {

ModelPool::ModelPool() = default;
ModelPool::~ModelPool() = default;

std::shared_ptr<Model> ModelPool::acquire(const std::string& name, const ModelParams& params) {
  std::string key = name;
  for (const auto& [k, v] : params) key += "\n" + k + "=" + v;
  std::lock_guard lock(mutex_);
  for (auto& [existing, batcher] : batchers_) {
    if (existing == key) return batcher->client();
  }
  // The batcher's own parameters are read here; everything else belongs to the model.
  ModelParams model_params = params;
  BatchOptions options;
  ParamReader p(name, params);
  // Never more than the catalog's max_batch in practice; the bounds keep the figures sane before that.
  options.max_batch = p.integer("max_batch", options.max_batch, 0, 1024);
  options.max_delay_ms = p.number("max_delay_ms", options.max_delay_ms, 0, 10000);
  model_params.erase("max_batch");
  model_params.erase("max_delay_ms");
  auto batcher = std::make_shared<ModelBatcher>(create_model(name, model_params), options);
  batchers_.emplace_back(key, batcher);
  return batcher->client();
}

std::vector<BatchStats> ModelPool::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<BatchStats> out;
  for (const auto& [key, batcher] : batchers_) out.push_back(batcher->stats());
  return out;
}

}  // namespace sf
