#pragma once
// Live feedback while a pipeline runs: a progress bar on a terminal (known length), periodic stats lines in
// real-time mode, and the summary at the end.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "sightflow/pipeline.hpp"

namespace sf::cli {

class ProgressReporter {
 public:
  // `bar`: draw a progress bar (stderr must be a terminal); `stats_interval_s` > 0: print a stats line that
  // often.
  ProgressReporter(Pipeline& pipeline, bool bar, double stats_interval_s);
  ~ProgressReporter();
  // Stops; a bar is drawn once more with the final count, so it does not stay at its last tick. `completed`:
  // the sources ended, so what was read is the whole length (a file's frame count is only a hint).
  void finish(bool completed = false);

 private:
  void loop();
  void draw_bar(double elapsed_s);
  Pipeline& pipeline_;
  bool bar_;
  double stats_interval_s_;
  double start_s_;
  int64_t total_frames_ = -1;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// "#####....." for a fraction in [0, 1]: the run's frames, tune --finetune's epochs.
std::string progress_bar(double fraction, int width = 30);

// The end-of-run summary: frames read, runs, dropped, per-stage mean times, fps.
std::string format_summary(Metrics& metrics, double wall_seconds);
// One compact line per stream for live stats.
std::string format_stats_line(Metrics& metrics);

}  // namespace sf::cli
