#include "cli/interrupt_watch.hpp"

#include <atomic>
#include <chrono>
#include <csignal>

namespace sf::cli {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }
}  // namespace

InterruptWatch::InterruptWatch(std::function<void()> on_interrupt) {
  // The flag is not cleared here: a signal that came after one watch last looked (or was destroyed) and
  // before this one started is still the user's request to stop. `run --serve` goes from the run's watch
  // to wait_for_interrupt's; a SIGTERM between the two was lost, and the server served on.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // A signal handler may only set a flag: look at it every 100 ms; the destructor ends the wait at once,
  // so a command that finishes is not held up by the watcher.
  thread_ = std::thread([this, on_interrupt = std::move(on_interrupt)] {
    std::unique_lock lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return finished_; })) {
      if (g_interrupted.exchange(false)) {
        lock.unlock();
        on_interrupt();
        lock.lock();
      }
    }
  });
}

InterruptWatch::~InterruptWatch() {
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace sf::cli

namespace sf::cli {

void wait_for_interrupt() {
  std::mutex mutex;
  std::condition_variable cv;
  bool interrupted = false;
  InterruptWatch watch([&] {
    std::lock_guard lock(mutex);
    interrupted = true;
    cv.notify_all();
  });
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return interrupted; });
}

}  // namespace sf::cli
