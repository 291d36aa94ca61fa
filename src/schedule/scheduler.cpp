#include <cmath>
#include <stdexcept>
#include <string>

#include "sightflow/schedule.hpp"

namespace sf {

void validate(const Schedule& s) {
  // Each run holds frame_count decoded frames, and each queued job a copy of that list: bound it.
  if (s.frame_count < 1 || s.frame_count > Schedule::kMaxFrameCount)
    throw std::invalid_argument("frame_count must be in [1, " + std::to_string(Schedule::kMaxFrameCount) +
                                "], got " + std::to_string(s.frame_count));
  if (s.frame_step < 1) throw std::invalid_argument("frame_step must be at least 1");
  if (!(s.interval >= 0 && std::isfinite(s.interval)))
    throw std::invalid_argument("interval must be a number >= 0 (seconds)");
}

Scheduler::Scheduler(const Schedule& schedule) : schedule_(schedule) { validate(schedule_); }

std::optional<std::vector<Frame>> Scheduler::offer(const Frame& frame) {
  if (frame.seq % schedule_.frame_step != 0) return std::nullopt;
  window_.push_back(frame);
  if (window_.size() > size_t(schedule_.frame_count)) window_.pop_front();
  if (window_.size() < size_t(schedule_.frame_count)) return std::nullopt;
  // A small tolerance so that interval 0.5 at 10 fps (pts 0.1 steps in floating point) fires every 5 frames.
  constexpr double kTolerance = 1e-6;
  if (last_run_pts_ && frame.pts - *last_run_pts_ < schedule_.interval - kTolerance) return std::nullopt;
  last_run_pts_ = frame.pts;
  return std::vector<Frame>(window_.begin(), window_.end());
}

}  // namespace sf
