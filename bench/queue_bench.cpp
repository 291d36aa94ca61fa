// Throughput of sf::BoundedQueue with one producer and one consumer thread, for the Block and
// DropOldest policies. Items are int64 (the cost measured is the queue's, not the payload's).
// Counters: items/s pushed (items_per_second) and, for DropOldest, the fraction dropped.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <thread>

#include "sightflow/bounded_queue.hpp"

namespace {

void run_queue(benchmark::State& state, sf::OverflowPolicy policy) {
  const auto capacity = size_t(state.range(0));
  constexpr int64_t kItems = 100'000;
  int64_t dropped = 0, received = 0;
  for (auto _ : state) {
    sf::BoundedQueue<int64_t> queue(capacity, policy);
    int64_t got = 0;
    std::thread consumer([&] {
      while (auto item = queue.pop()) {
        benchmark::DoNotOptimize(*item);
        ++got;
      }
    });
    for (int64_t i = 0; i < kItems; ++i) queue.push(i);
    queue.close();
    consumer.join();
    dropped += queue.dropped();
    received += got;
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kItems);
  state.counters["dropped_frac"] = double(dropped) / double(int64_t(state.iterations()) * kItems);
  state.counters["received"] = benchmark::Counter(double(received), benchmark::Counter::kAvgIterations);
}

void BM_Block(benchmark::State& state) { run_queue(state, sf::OverflowPolicy::Block); }
void BM_DropOldest(benchmark::State& state) { run_queue(state, sf::OverflowPolicy::DropOldest); }

BENCHMARK(BM_Block)->Arg(1)->Arg(8)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DropOldest)->Arg(1)->Arg(8)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
