#pragma once
// Per-run timings of the pipeline stages, in seconds.
#include <chrono>

namespace sf {

struct StageTimes {
  double read = 0;    // demux + decode (per frame, filled by the source stage)
  double resize = 0;  // pre-processing: resize, letterbox, blob
  double model = 0;   // forward pass / detector call
  double post = 0;    // decoding outputs, NMS, box mapping
  double sink = 0;    // writing results
  double total = 0;   // capture to result stored (latency)
};

// Measures elapsed time from construction (or restart) with a steady clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  // Returns the elapsed seconds and starts again: convenient for consecutive stages.
  double lap() {
    auto now = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(now - start_).count();
    start_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sf
