#pragma once
// The dynamic batcher behind ModelPool: callers on many threads submit images, one thread runs them
// through the model in batches (see model_pool.hpp for the policy).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <thread>

#include "sightflow/model_pool.hpp"

namespace sf {

class ModelBatcher : public std::enable_shared_from_this<ModelBatcher> {
 public:
  ModelBatcher(std::unique_ptr<Model> model, BatchOptions options);
  ~ModelBatcher();
  ModelBatcher(const ModelBatcher&) = delete;
  ModelBatcher& operator=(const ModelBatcher&) = delete;

  // A new client handle (a Model whose infer() goes through this batcher).
  std::shared_ptr<Model> client();
  const ModelInfo& info() const { return model_->info(); }
  int max_batch() const { return max_batch_; }
  BatchStats stats() const;
  size_t pending_images() const;  // submitted, not yet in a forward pass

  // Blocks until the images have been run (in one or more batches); thread-safe. `prepared`: empty, or
  // the model's prepare() output per image.
  std::vector<ModelOutput> submit(std::span<const cv::Mat> images, std::span<const Prepared> prepared,
                                  StageTimes* times);
  // The model's own pre-processing, on the caller's thread.
  Prepared prepare(const cv::Mat& image, StageTimes* times) const { return model_->prepare(image, times); }
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
  };
  void loop();
  void run_batch(std::vector<Request*>& batch);

  std::unique_ptr<Model> model_;
  int max_batch_;
  std::chrono::duration<double, std::milli> max_delay_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<Request*> pending_;
  size_t pending_images_ = 0;
  int clients_ = 0;
  bool stopping_ = false;
  bool open_clients_;
  int64_t batches_ = 0, items_ = 0;
  std::vector<int64_t> batch_sizes_;
  std::thread thread_;
};

}  // namespace sf
