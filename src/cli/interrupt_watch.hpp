#pragma once
// Ctrl-C and SIGTERM for the long-running commands: a signal only sets a flag; a watcher thread sees it
// and calls on_interrupt (outside the signal handler), which asks the command to finish what it holds.
#include <atomic>
#include <functional>
#include <thread>

namespace sf::cli {

class InterruptWatch {
 public:
  explicit InterruptWatch(std::function<void()> on_interrupt);
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace sf::cli
