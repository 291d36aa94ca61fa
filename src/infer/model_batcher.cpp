#include "infer/model_batcher.hpp"

#include <spdlog/spdlog.h>

namespace sf {
namespace {

// One algorithm's view of a shared model; unregisters from the batcher when dropped.
class BatchClient : public Model {
 public:
  explicit BatchClient(std::shared_ptr<ModelBatcher> batcher) : batcher_(std::move(batcher)) {}
  ~BatchClient() override { batcher_->remove_client(); }
  const ModelInfo& info() const override { return batcher_->info(); }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times) override {
    return batcher_->submit(images, {}, times);
  }
  Prepared prepare(const cv::Mat& image, StageTimes* times) const override {
    return batcher_->prepare(image, times);
  }
  std::vector<ModelOutput> infer_prepared(std::span<const cv::Mat> images, std::span<const Prepared> prepared,
                                          StageTimes* times) override {
    return batcher_->submit(images, prepared, times);
  }

 private:
  std::shared_ptr<ModelBatcher> batcher_;
};

}  // namespace

ModelBatcher::ModelBatcher(std::unique_ptr<Model> model, BatchOptions options)
    : model_(std::move(model)),
      max_batch_(options.max_batch > 0 ? std::min(options.max_batch, model_->info().max_batch)
                                       : model_->info().max_batch),
      max_delay_(options.max_delay_ms),
      open_clients_(options.open_clients) {
  if (options.max_batch > model_->info().max_batch) {
    spdlog::warn("model '{}' runs batches of at most {} (asked for {})", model_->info().name,
                 model_->info().max_batch, options.max_batch);
  }
  max_batch_ = std::max(1, max_batch_);
  batch_sizes_.assign(size_t(max_batch_) + 1, 0);
  thread_ = std::thread([this] { loop(); });
}

ModelBatcher::~ModelBatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<Model> ModelBatcher::client() {
  {
    std::lock_guard lock(mutex_);
    ++clients_;
  }
  return std::make_shared<BatchClient>(shared_from_this());
}

void ModelBatcher::remove_client() {
  {
    std::lock_guard lock(mutex_);
    --clients_;
  }
  wake_.notify_all();  // a waiting batch may now be complete
}

BatchStats ModelBatcher::stats() const {
  std::lock_guard lock(mutex_);
  return {model_->info().name, max_batch_, batches_, items_, batch_sizes_};
}

size_t ModelBatcher::pending_images() const {
  std::lock_guard lock(mutex_);
  return pending_images_;
}

std::vector<ModelOutput> ModelBatcher::submit(std::span<const cv::Mat> images,
                                              std::span<const Prepared> prepared, StageTimes* times) {
  if (images.empty()) return {};
  if (!prepared.empty() && prepared.size() != images.size())
    throw std::invalid_argument("one prepared input per image expected");
  Request request;
  request.images = images;
  request.prepared = prepared;
  request.arrived = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  pending_.push_back(&request);
  pending_images_ += images.size();
  wake_.notify_all();
  done_.wait(lock, [&] { return request.done; });
  if (request.error) std::rethrow_exception(request.error);
  if (times) {
    times->resize += request.times.resize;
    times->model += request.times.model;
    times->post += request.times.post;
  }
  return std::move(request.outputs);
}

void ModelBatcher::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, nothing left
    // Wait for company until the batch is full, every client is waiting (nobody else can add to it),
    // or the oldest request has waited max_delay.
    auto deadline = pending_.front()->arrived +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(max_delay_);
    wake_.wait_until(lock, deadline, [&] {
      return stopping_ || pending_images_ >= size_t(max_batch_) ||
             (!open_clients_ && int(pending_.size()) >= clients_);
    });
    std::vector<Request*> batch;
    size_t images = 0;
    while (!pending_.empty() &&
           (batch.empty() || images + pending_.front()->images.size() <= size_t(max_batch_))) {
      images += pending_.front()->images.size();
      pending_images_ -= pending_.front()->images.size();
      batch.push_back(pending_.front());
      pending_.pop_front();
    }
    lock.unlock();
    run_batch(batch);
    lock.lock();
    // A request larger than max_batch went alone; the model runs it in passes of max_batch at most.
    items_ += int64_t(images);
    for (size_t left = images; left > 0; left -= std::min(left, size_t(max_batch_))) {
      ++batches_;
      ++batch_sizes_[std::min(left, size_t(max_batch_))];
    }
    for (Request* r : batch) r->done = true;
    done_.notify_all();
  }
}

void ModelBatcher::run_batch(std::vector<Request*>& batch) {
  std::vector<cv::Mat> images;
  std::vector<Prepared> prepared;
  for (Request* r : batch) {
    images.insert(images.end(), r->images.begin(), r->images.end());
    if (r->prepared.empty())
      prepared.resize(prepared.size() + r->images.size());
    else
      prepared.insert(prepared.end(), r->prepared.begin(), r->prepared.end());
  }
  StageTimes times;
  try {
    auto outputs = model_->infer_prepared(images, prepared, &times);
    size_t next = 0;
    for (Request* r : batch) {
      for (size_t i = 0; i < r->images.size(); ++i) r->outputs.push_back(std::move(outputs.at(next++)));
      r->times = times;  // every request waited for the whole batch
    }
  } catch (...) {
    for (Request* r : batch) r->error = std::current_exception();
  }
}

}  // namespace sf
