#pragma once
// One model per (detector, parameters) in a run, shared by every algorithm instance that asks for it,
// with a dynamic batcher in front: requests from several streams and algorithms are joined into one
// forward pass of up to max_batch images, waiting at most max_delay_ms for more to arrive.
//
// Instances: a shared model runs on one or more instances (copies of the network, each on a thread of its
// own) fed from the one queue. Parameter `instances` sets how many; 0 (the default) means one per client
// up to the number of cores: one stream gets one instance whose forward passes OpenCV spreads over every
// core (its TBB pool), many streams get one pass per core at a time, which a small network fills better
// than the TBB pool alone does (bench/RESULTS.md, "Many cameras"). OpenCV's thread pool is the
// process's: with several automatic instances it is set to one thread (fix_opencv_threads() below).
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
  // Real time (ModelBatcher::take_turn): requests per instance that may wait with their frame chosen.
  // 1 keeps frames fresh; more lets batches fill where batching pays (on this CPU it does not).
  int ahead = 1;
};

struct BatchStats {
  std::string model;
  int max_batch = 1;
  int instances = 1;                 // copies of the model serving its queue
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
  // the batcher: while every live client has a request waiting or in a forward pass, the batch leaves
  // without delay. Drop the handle when done so that the others stop waiting for it. Parameter
  // `instances` (0..64, 0: automatic, above) sets the model's instances.
  std::shared_ptr<Model> acquire(const std::string& name, const ModelParams& params);
  std::vector<BatchStats> stats() const;
  // Sets OpenCV's thread count for the process (`--threads`); automatic instances then leave it as set.
  // Otherwise a model that goes to several instances sets it to 1: each pass then runs on its instance's
  // thread alone, as TBB splitting every small layer of two passes at once costs more than it gains
  // (bench/RESULTS.md, "Many cameras").
  static void fix_opencv_threads(int threads);

 private:
  struct Shared {
    std::shared_ptr<ModelBatcher> batcher;
    bool automatic;  // instances follow the clients, up to the cores
    std::shared_ptr<Model> client();
  };
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Shared>> batchers_;
};

}  // namespace sf
