#include "infer/model_batcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace sf {
namespace {

// One algorithm's view of a shared model; unregisters from the batcher when dropped.
class BatchClient : public Model {
 public:
  explicit BatchClient(std::shared_ptr<ModelBatcher> batcher) : batcher_(std::move(batcher)) {}
  ~BatchClient() override { batcher_->remove_client(); }
  const ModelInfo& info() const override { return batcher_->info(); }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times) override {
    return batcher_->submit(images, {}, times, std::exchange(ticket_, 0));
  }
  Prepared prepare(const cv::Mat& image, StageTimes* times) const override {
    return batcher_->prepare(image, times);
  }
  std::vector<ModelOutput> infer_prepared(std::span<const cv::Mat> images, std::span<const Prepared> prepared,
                                          StageTimes* times) override {
    return batcher_->submit(images, prepared, times, std::exchange(ticket_, 0));
  }
  std::unique_ptr<Reservation> reserve() override {
    ticket_ = batcher_->take_turn();
    return std::make_unique<Turn>(batcher_, ticket_);
  }

 private:
  // Gives the ticket back if the run ended without a forward pass (nothing moved, an error).
  struct Turn : Reservation {
    Turn(std::shared_ptr<ModelBatcher> batcher, uint64_t ticket)
        : batcher(std::move(batcher)), ticket(ticket) {}
    ~Turn() override { batcher->release_turn(ticket); }
    std::shared_ptr<ModelBatcher> batcher;
    uint64_t ticket;
  };

  std::shared_ptr<ModelBatcher> batcher_;
  uint64_t ticket_ = 0;  // taken by reserve(), spent by the next infer
};

}  // namespace

ModelBatcher::ModelBatcher(std::unique_ptr<Model> model, BatchOptions options)
    : ModelBatcher([&model]() mutable { return std::move(model); }, 1, options) {
  make_ = nullptr;  // the one model given is all there is
}

ModelBatcher::ModelBatcher(const ModelMaker& make, int instances, BatchOptions options)
    : make_(make),
      first_(make()),
      max_delay_(options.max_delay_ms),
      open_clients_(options.open_clients),
      ahead_(size_t(std::max(1, options.ahead))) {
  const int model_max = first_->info().max_batch;
  max_batch_ = options.max_batch > 0 ? std::min(options.max_batch, model_max) : model_max;
  if (options.max_batch > model_max) {
    spdlog::warn("model '{}' runs batches of at most {} (asked for {})", first_->info().name, model_max,
                 options.max_batch);
  }
  max_batch_ = std::max(1, max_batch_);
  batch_sizes_.assign(size_t(max_batch_) + 1, 0);
  scale(instances);
}

ModelBatcher::~ModelBatcher() { scale(0); }

void ModelBatcher::scale(int instances) {
  if (instances < 0) throw std::invalid_argument("instances must be >= 0");
  std::lock_guard scaling(scale_mutex_);
  const size_t target = size_t(instances), now = threads_.size();
  if (target > now) {
    // Models are made before any thread starts, outside the queue's lock: loading takes a while.
    std::vector<std::unique_ptr<Model>> made;
    for (size_t i = std::max<size_t>(now, 1); i < target; ++i) {
      if (!make_) throw std::logic_error("this batcher has one model and cannot add instances");
      made.push_back(make_());
    }
    {
      std::lock_guard lock(mutex_);
      serving_ = target;
    }
    turn_cv_.notify_all();
    for (size_t i = now; i < target; ++i) {
      std::unique_ptr<Model> own = i == 0 ? nullptr : std::move(made.at(i - std::max<size_t>(now, 1)));
      threads_.emplace_back([this, i, own = std::move(own)]() mutable { loop(i, own ? *own : *first_); });
    }
  } else if (target < now) {
    {
      std::lock_guard lock(mutex_);
      serving_ = target;
    }
    wake_.notify_all();
    turn_cv_.notify_all();
    for (size_t i = target; i < now; ++i) threads_[i].join();  // each finishes its batch first
    threads_.resize(target);
  }
  if (target == 0) {
    // Nobody is left to serve what waits: answer it rather than leave its callers blocked.
    std::lock_guard lock(mutex_);
    for (Request* r : pending_) {
      r->error = std::make_exception_ptr(std::runtime_error("model '" + info().name + "' has no instance"));
      r->done = true;
    }
    pending_.clear();
    pending_images_ = 0;
    done_.notify_all();
  }
}

int ModelBatcher::instances() const {
  std::lock_guard lock(mutex_);
  return int(serving_);
}

int ModelBatcher::clients() const {
  std::lock_guard lock(mutex_);
  return clients_;
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
  return {first_->info().name, max_batch_, int(serving_), batches_, items_, batch_sizes_};
}

size_t ModelBatcher::pending_images() const {
  std::lock_guard lock(mutex_);
  return pending_images_;
}

uint64_t ModelBatcher::take_turn() {
  std::unique_lock lock(mutex_);
  const uint64_t ticket = next_ticket_++;
  ++turn_waiters_;
  wake_.notify_all();  // a batch being gathered need not wait for this caller
  // With no instance, grant at once: submit() then waits for one, or fails as scale(0) answers.
  turn_cv_.wait(lock, [&] {
    return ticket == next_grant_ && (serving_ == 0 || held_.size() + pending_images_ < serving_ * ahead_);
  });
  --turn_waiters_;
  ++next_grant_;
  held_.insert(ticket);
  turn_cv_.notify_all();  // the next ticket may be granted too
  return ticket;
}

int ModelBatcher::turn_waiters() const {
  std::lock_guard lock(mutex_);
  return turn_waiters_;
}

void ModelBatcher::release_turn(uint64_t ticket) {
  std::lock_guard lock(mutex_);
  if (held_.erase(ticket)) turn_cv_.notify_all();
}

std::vector<ModelOutput> ModelBatcher::submit(std::span<const cv::Mat> images,
                                              std::span<const Prepared> prepared, StageTimes* times,
                                              uint64_t ticket) {
  if (images.empty()) return {};
  if (!prepared.empty() && prepared.size() != images.size())
    throw std::invalid_argument("one prepared input per image expected");
  Request request;
  request.images = images;
  request.prepared = prepared;
  request.arrived = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  request.turn = ticket != 0 && held_.erase(ticket) > 0;
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

// Requests that took a turn chose their frame for a pass about to start: they go ahead_ at a time, so the
// instances share them instead of one taking all.
size_t ModelBatcher::batch_limit(const Request& request) const {
  return request.turn ? std::min(ahead_, size_t(max_batch_)) : size_t(max_batch_);
}

std::vector<ModelBatcher::Request*> ModelBatcher::next_batch(std::unique_lock<std::mutex>& lock,
                                                             size_t instance) {
  // One instance gathers a batch at a time, so that idle instances do not split what arrives.
  wake_.wait(lock, [&] { return instance >= serving_ || (!forming_ && !pending_.empty()); });
  if (instance >= serving_) return {};
  forming_ = true;
  const size_t limit = batch_limit(*pending_.front());
  // Wait for company until the batch is full, every client is waiting, in a forward pass or waiting for a
  // turn (nobody else can add to it), or the oldest request has waited max_delay.
  auto deadline =
      pending_.front()->arrived + std::chrono::duration_cast<std::chrono::steady_clock::duration>(max_delay_);
  wake_.wait_until(lock, deadline, [&] {
    return instance >= serving_ || pending_images_ >= limit ||
           (!open_clients_ && int(pending_.size() + in_flight_) + turn_waiters_ >= clients_);
  });
  forming_ = false;
  std::vector<Request*> batch;
  if (instance >= serving_) {
    wake_.notify_all();  // another instance takes over what waits
    return batch;
  }
  size_t images = 0;
  while (!pending_.empty()) {
    if (!batch.empty() && images + pending_.front()->images.size() > batch_limit(*pending_.front())) break;
    images += pending_.front()->images.size();
    pending_images_ -= pending_.front()->images.size();
    batch.push_back(pending_.front());
    pending_.pop_front();
  }
  wake_.notify_all();     // what is left may form the next batch on another instance
  turn_cv_.notify_all();  // fewer wait with their frame chosen: the next turn may go
  return batch;
}

void ModelBatcher::loop(size_t instance, Model& model) {
  std::unique_lock lock(mutex_);
  while (true) {
    auto batch = next_batch(lock, instance);
    if (batch.empty()) return;
    size_t images = 0;
    for (Request* r : batch) images += r->images.size();
    in_flight_ += batch.size();
    lock.unlock();
    run_batch(model, batch);
    lock.lock();
    in_flight_ -= batch.size();
    // A request larger than max_batch went alone; the model runs it in passes of max_batch at most.
    items_ += int64_t(images);
    for (size_t left = images; left > 0; left -= std::min(left, size_t(max_batch_))) {
      ++batches_;
      ++batch_sizes_[std::min(left, size_t(max_batch_))];
    }
    for (Request* r : batch) r->done = true;
    done_.notify_all();
    wake_.notify_all();  // fewer in flight: a batch being gathered may now hold every client
  }
}

void ModelBatcher::run_batch(Model& model, std::vector<Request*>& batch) {
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
    auto outputs = model.infer_prepared(images, prepared, &times);
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
