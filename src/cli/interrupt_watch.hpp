#pragma once
// Ctrl-C and SIGTERM for the long-running commands: a signal only sets a flag; a watcher thread sees it
// and calls on_interrupt (outside the signal handler), which asks the command to finish what it holds.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sf::cli {

class InterruptWatch {
 public:
  explicit InterruptWatch(std::function<void()> on_interrupt);
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::thread thread_;
};

// Blocks until Ctrl-C or SIGTERM (servers that run until told to stop).
void wait_for_interrupt();

}  // namespace sf::cli
