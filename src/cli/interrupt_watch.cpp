#include "cli/interrupt_watch.hpp"

#include <chrono>
#include <csignal>

namespace sf::cli {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }
}  // namespace

InterruptWatch::InterruptWatch(std::function<void()> on_interrupt) {
  g_interrupted = false;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  thread_ = std::thread([this, on_interrupt = std::move(on_interrupt)] {
    while (!finished_) {
      if (g_interrupted.exchange(false)) on_interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

InterruptWatch::~InterruptWatch() {
  finished_ = true;
  thread_.join();
}

}  // namespace sf::cli
