// Results written per second by a store (SQLite file or PostgreSQL URL), with their detections, in
// batches as the store sink commits them. Prints one JSON line.
//
//   store_write_bench DB [RESULTS] [BOXES_PER_RESULT] [BATCH]
#include <chrono>
#include <cstdio>
#include <string>

#include "sightflow/store.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DB [RESULTS=20000] [BOXES=6] [BATCH=256]\n", argv[0]);
    return 2;
  }
  const std::string db = argv[1];
  const int results = argc > 2 ? std::stoi(argv[2]) : 20000;
  const int boxes = argc > 3 ? std::stoi(argv[3]) : 6;
  const int batch_size = argc > 4 ? std::stoi(argv[4]) : 256;
  auto store = sf::open_store(db);
  const double start_ts = 1790000000.0;
  auto t0 = std::chrono::steady_clock::now();
  for (int first = 0; first < results; first += batch_size) {
    std::vector<sf::Result> batch;
    for (int i = first; i < std::min(results, first + batch_size); ++i) {
      sf::Result r;
      r.stream = "bench";
      r.algo = "people";
      r.frame = i;
      r.pts = i / 25.0;
      r.capture_ts = r.ts = start_ts + i / 25.0;
      for (int b = 0; b < boxes; ++b)
        r.detections.push_back({b % 3 ? "person" : "car", 0, 0.8f, {10.f * b, 20.f, 40.f, 90.f}, {}});
      batch.push_back(std::move(r));
    }
    store->write(batch);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "{\"store\":\"%s\",\"results\":%d,\"boxes_per_result\":%d,\"batch\":%d,\"seconds\":%.3f,"
      "\"results_per_s\":%.0f,\"detections_per_s\":%.0f}\n",
      store->describe().c_str(), results, boxes, batch_size, seconds, results / seconds,
      double(results) * boxes / seconds);
  return 0;
}
