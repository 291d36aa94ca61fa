#pragma once
// When an algorithm runs and on which frames (the Stream Infer model):
//  - frame_step: only every frame_step-th frame of the stream (by sequence number) is a candidate;
//  - frame_count: a run receives the newest frame_count candidates, oldest first, newest last;
//  - interval: at least `interval` seconds of media time lie between two runs (0: run on every candidate).
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "sightflow/frame.hpp"

namespace sf {

struct Schedule {
  static constexpr int kMaxFrameCount = 64;
  int frame_count = 1;  // 1..kMaxFrameCount
  int frame_step = 1;
  double interval = 0.0;
};

// Throws std::invalid_argument naming the bad field.
void validate(const Schedule& schedule);

class Scheduler {
 public:
  explicit Scheduler(const Schedule& schedule);
  // Feed every frame of one stream in order. Returns the frames of a run when one is due now.
  std::optional<std::vector<Frame>> offer(const Frame& frame);
  const Schedule& schedule() const { return schedule_; }

 private:
  Schedule schedule_;
  std::deque<Frame> window_;  // newest frame_count candidates
  std::optional<double> last_run_pts_;
};

}  // namespace sf
