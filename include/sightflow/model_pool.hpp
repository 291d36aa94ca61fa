#pragma once
// One model per (detector, parameters) in a run, shared by every algorithm instance that asks for it,
// with a dynamic batcher in front: requests from several streams and algorithms are joined into one
// forward pass of up to max_batch images, waiting at most max_delay_ms for more to arrive.
//
// Threading: each shared model runs one forward pass at a time on its batcher thread; inside the pass
// OpenCV parallelises over all cores (its TBB pool, cv::setNumThreads). Running several passes of the
// same model at once would only oversubscribe the cores (docs/ARCHITECTURE.md, bench/RESULTS.md).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sightflow/model.hpp"

namespace sf {

struct BatchOptions {
  int max_batch = 0;          // 0: the model's own limit (catalog max_batch); never more than that
  double max_delay_ms = 5.0;  // how long the first request of a batch waits for company
  // Clients that come and go (HTTP requests): a batch leaves only when full or after max_delay_ms,
  // instead of as soon as every registered client has a request waiting.
  bool open_clients = false;
};

struct BatchStats {
  std::string model;
  int max_batch = 1;
  int64_t batches = 0, items = 0;    // forward passes and images they carried
  std::vector<int64_t> batch_sizes;  // [n]: passes that carried n images (index 0 unused)
};

class ModelBatcher;

class ModelPool {
 public:
  ModelPool();
  ~ModelPool();
  // A handle to the shared, batched model for `name` with `params` (built on first request; parameters
  // max_batch and max_delay_ms configure the batcher, the rest the model). Each handle is one client of
  // the batcher: while every live client has a request waiting, the batch leaves without delay. Drop the
  // handle when done so that the others stop waiting for it.
  std::shared_ptr<Model> acquire(const std::string& name, const ModelParams& params);
  std::vector<BatchStats> stats() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::shared_ptr<ModelBatcher>>> batchers_;
};

}  // namespace sf
