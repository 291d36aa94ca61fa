#pragma once
// A bounded, thread-safe FIFO between pipeline stages. Every queue says what happens when it is full
// (like GStreamer's queue "leaky" property): block the producer, or drop the oldest or the newest item.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace sf {

enum class OverflowPolicy {
  Block,       // producer waits for room: nothing is lost (offline mode)
  DropOldest,  // the oldest queued item is discarded to make room: consumers see the newest (real time)
  DropNewest,  // the item being pushed is discarded: what is queued is kept
};

OverflowPolicy parse_overflow_policy(const std::string& name);  // "block", "drop-oldest", "drop-newest"
std::string to_string(OverflowPolicy policy);

template <typename T>
class BoundedQueue {
 public:
  BoundedQueue(size_t capacity, OverflowPolicy policy) : capacity_(capacity), policy_(policy) {
    if (capacity == 0) throw std::invalid_argument("queue capacity must be at least 1");
  }

  // Returns false if the queue is closed, or if the item was dropped under DropNewest.
  // Under DropOldest the evicted item is returned through `evicted` when given.
  bool push(T item, std::optional<T>* evicted = nullptr) {
    std::unique_lock lock(mutex_);
    if (closed_) return false;
    if (items_.size() >= capacity_) {
      switch (policy_) {
        case OverflowPolicy::Block:
          not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
          if (closed_) return false;
          break;
        case OverflowPolicy::DropOldest:
          if (evicted) *evicted = std::move(items_.front());
          items_.pop_front();
          ++dropped_;
          break;
        case OverflowPolicy::DropNewest:
          ++dropped_;
          return false;
      }
    }
    items_.push_back(std::move(item));
    ++pushed_;
    not_empty_.notify_one();
    return true;
  }

  // Waits for an item; std::nullopt once the queue is closed and drained.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return take_front();
  }

  // Like pop() but gives up after `timeout` (std::nullopt then too; check closed() to tell apart).
  template <typename Rep, typename Period>
  std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    return take_front();
  }

  // No more pushes; consumers drain what is left, blocked producers return false.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }
  OverflowPolicy policy() const { return policy_; }
  int64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  int64_t pushed() const {
    std::lock_guard lock(mutex_);
    return pushed_;
  }

 private:
  std::optional<T> take_front() {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  const size_t capacity_;
  const OverflowPolicy policy_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
  int64_t dropped_ = 0, pushed_ = 0;
};

}  // namespace sf
