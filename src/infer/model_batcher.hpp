#pragma once
// The dynamic batcher behind ModelPool and the inference API: callers on many threads submit images into
// one queue; each model instance (TorchServe's workers, Triton's instance groups) runs them on a thread of
// its own, in batches (see model_pool.hpp for the policy). Instances may be added and removed while it runs.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <set>
#include <thread>

#include "sightflow/model_pool.hpp"

namespace sf {

using ModelMaker = std::function<std::unique_ptr<Model>()>;

class ModelBatcher : public std::enable_shared_from_this<ModelBatcher> {
 public:
  // One instance of `model`.
  ModelBatcher(std::unique_ptr<Model> model, BatchOptions options);
  // `instances` instances made by `make` (0: none serves yet, but the model is read once for info()).
  ModelBatcher(const ModelMaker& make, int instances, BatchOptions options);
  ~ModelBatcher();
  ModelBatcher(const ModelBatcher&) = delete;
  ModelBatcher& operator=(const ModelBatcher&) = delete;

  // A new client handle (a Model whose infer() goes through this batcher).
  std::shared_ptr<Model> client();
  const ModelInfo& info() const { return first_->info(); }
  int max_batch() const { return max_batch_; }
  BatchStats stats() const;
  size_t pending_images() const;  // submitted, not yet in a forward pass
  int clients() const;

  // Sets the number of instances serving the queue. New ones are made by the ModelMaker given at
  // construction (std::logic_error without one); removed ones finish their batch first. Requests wait
  // while there is none.
  void scale(int instances);
  int instances() const;

  // Real time: blocks until fewer than instances x `ahead` requests wait with their frame already chosen,
  // callers served in the order they asked (so no stream starves), then returns a ticket for submit(). The
  // caller picks its newest frame after this, so a frame waits about one pass, not a round of every
  // stream's passes. release_turn() gives back a ticket that was not submitted (a no-op once it was).
  uint64_t take_turn();
  void release_turn(uint64_t ticket);
  int turn_waiters() const;

  // Blocks until the images have been run (in one or more batches); thread-safe. `prepared`: empty, or
  // the model's prepare() output per image; `ticket`: from take_turn(), or 0.
  std::vector<ModelOutput> submit(std::span<const cv::Mat> images, std::span<const Prepared> prepared,
                                  StageTimes* times, uint64_t ticket = 0);
  // The model's own pre-processing, on the caller's thread.
  Prepared prepare(const cv::Mat& image, StageTimes* times) const { return first_->prepare(image, times); }
  void remove_client();

 private:
  struct Request {
    std::span<const cv::Mat> images;
    std::span<const Prepared> prepared;
    std::chrono::steady_clock::time_point arrived;
    std::vector<ModelOutput> outputs;
    StageTimes times;
    std::exception_ptr error;
    bool done = false;
    bool turn = false;  // submitted with a ticket: batches of these hold at most ahead_ images
  };
  void start_instance(size_t index, std::unique_ptr<Model> own);
  void loop(size_t instance, Model& model);
  size_t batch_limit(const Request& request) const;  // images a batch that takes `request` may hold
  std::vector<Request*> next_batch(std::unique_lock<std::mutex>& lock, size_t instance);
  void run_batch(Model& model, std::vector<Request*>& batch);

  ModelMaker make_;
  // Instance 0 runs first_, which also answers info() and prepare() and is kept while there is no
  // instance; the others own their model inside their thread.
  std::unique_ptr<Model> first_;
  std::vector<std::thread> threads_;  // threads_[i] is instance i
  int max_batch_;
  std::chrono::duration<double, std::milli> max_delay_;
  mutable std::mutex mutex_;
  std::mutex scale_mutex_;  // one scale() at a time (it makes models outside mutex_)
  std::condition_variable wake_, done_;
  std::deque<Request*> pending_;
  size_t pending_images_ = 0;
  size_t serving_ = 0;    // instances that may take batches: threads_[i] exits once i >= serving_
  size_t in_flight_ = 0;  // requests in forward passes now
  bool forming_ = false;  // an instance is gathering a batch (only one at a time, so batches fill up)
  int clients_ = 0;
  bool open_clients_;
  // Turns (take_turn): tickets are granted in order while held + pending images < serving_ x ahead_.
  size_t ahead_;
  uint64_t next_ticket_ = 1, next_grant_ = 1;
  std::set<uint64_t> held_;  // granted, neither submitted nor given back
  int turn_waiters_ = 0;     // callers blocked in take_turn (they cannot add to a batch meanwhile)
  std::condition_variable turn_cv_;
  int64_t batches_ = 0, items_ = 0;
  std::vector<int64_t> batch_sizes_;
};

}  // namespace sf
