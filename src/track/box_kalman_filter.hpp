#pragma once
// Constant-velocity Kalman filter over one box, in media time: state (cx, cy, w, h) and their velocities
// per second. The transition is built from dt = pts - last pts on every prediction, so skipped frames
// (frame_step, interval, fps limits, real-time drops) only mean a longer step, not a wrong one.
#include <opencv2/core/types.hpp>
#include <opencv2/video/tracking.hpp>

namespace sf {

struct BoxNoise {
  // Standard deviations relative to the box height (as SORT/ByteTrack do, so near and far objects are
  // treated alike): measurement noise of a detection, and the process noise per second of media time.
  double measurement = 0.05;
  double position_per_s = 0.1;
  double velocity_per_s = 0.6;
};

class BoxKalmanFilter {
 public:
  BoxKalmanFilter(const cv::Rect2f& box, double pts, const BoxNoise& noise = {});

  // Moves the state to `pts` (nothing when pts is not later than the state's time).
  void predict(double pts);
  // Corrects with a detection at the state's current time (call predict(pts) first); noise_scale > 1
  // trusts it less (a box that may cover someone else too).
  void correct(const cv::Rect2f& box, double noise_scale = 1.0);
  // Lost tracks stop growing or shrinking: a size velocity extrapolated over a long gap is noise.
  void stop_resizing();

  cv::Rect2f box() const;
  cv::Point2f velocity() const;  // pixels per second
  double time() const { return pts_; }

 private:
  cv::KalmanFilter kf_;
  BoxNoise noise_;
  double pts_;
};

}  // namespace sf
