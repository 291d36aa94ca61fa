#include "cli/heap_policy.hpp"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace sf::cli {

void limit_malloc_arenas() {
  if (std::getenv("MALLOC_ARENA_MAX")) return;
  mallopt(M_ARENA_MAX, int(std::max(2u, std::thread::hardware_concurrency())));
}

void start_heap_trimmer(double every_s) {
  // Detached: it holds nothing but the heap's own lock while it trims, and ends with the process.
  std::thread([every_s] {
    const auto period = std::chrono::duration<double>(every_s);
    for (;;) {
      std::this_thread::sleep_for(period);
      malloc_trim(0);
    }
  }).detach();
}

}  // namespace sf::cli
