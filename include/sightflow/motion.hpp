#pragma once
// Motion-aware inference for static cameras (docs/MOTION.md): a background model finds what moves; the
// detector then runs only when something moves (`skip`) or only on crops around it (`roi`).
#include <memory>
#include <opencv2/core/mat.hpp>
#include <set>
#include <string>
#include <vector>

#include "sightflow/algorithm.hpp"

namespace sf {

enum class MotionMode { Off, Skip, Roi };
MotionMode parse_motion_mode(const std::string& name);  // "off" | "skip" | "roi"; else invalid_argument
std::string to_string(MotionMode mode);

struct MotionOptions {
  MotionMode mode = MotionMode::Off;
  // Background model (running average of the blurred grey frame).
  int warmup_frames = 5;        // the first frames: motion not yet trusted, full-frame runs
  double learning_rate = 0.05;  // weight of each seen frame in the background
  int blur = 5;                 // Gaussian blur kernel (odd) against sensor noise and compression
  int threshold = 25;           // grey-level difference that counts as changed
  int dilate = 9;               // dilation kernel joining a body's fragments into one blob
  double global_change = 0.5;   // changed fraction above which the change is global (light, shake)
  // Region proposals.
  double min_area = 200;           // smallest moving blob, pixels; smaller blobs are noise
  double margin = 0.25;            // padding around a blob, as a fraction of its larger side
  int min_crop = 160;              // smallest crop side, pixels (limits the up-scaling of tiny crops)
  int max_crop = 352;              // joins stop here; larger blobs are tiled with crops of this side
  double aspect = 1.0;             // crop width / height: the model's input aspect ratio
  int max_crops = 24;              // more crops than this: one full-frame run instead
  double max_crop_fraction = 3.0;  // crops adding up to more frames than this: a full-frame run
  // Gating.
  double full_frame_every = 5.0;  // seconds of media time between forced full-frame runs (0: never)
  bool keep_static = true;        // roi: keep previous detections that no crop covers (nothing moved)
};

// Sets one option by its name in MotionOptions and docs/MOTION.md (e.g. "min_crop", "160"), for
// `--motion-param NAME=VALUE`. Throws std::invalid_argument naming an unknown option or a bad value.
void set_motion_option(MotionOptions& options, const std::string& name, const std::string& value);
const std::vector<std::string>& motion_option_names();
// Throws std::invalid_argument naming the first option out of its range.
void validate(const MotionOptions& options);

// What the background model saw in one frame.
struct MotionObservation {
  bool warming_up = true;      // too few frames seen to trust the mask
  bool global_change = false;  // most of the frame changed at once: not motion, background re-learnt
  double changed_fraction = 0;
  double moving_area = 0;       // pixels of blobs of at least min_area
  std::vector<cv::Rect> blobs;  // bounding boxes of those blobs, frame pixels
  std::vector<cv::Rect> crops;  // blobs padded, merged and shaped to the model's aspect ratio
};

class BackgroundModel;

// Per-stream motion state: feed every frame the algorithm sees, in order. Not thread-safe (one per
// stream, used by that stream's worker).
class MotionDetector {
 public:
  explicit MotionDetector(const MotionOptions& options);
  ~MotionDetector();
  MotionObservation observe(const cv::Mat& bgr);
  const cv::Mat& last_mask() const { return mask_; }  // 0/255, frame size

 private:
  MotionOptions options_;
  std::unique_ptr<BackgroundModel> background_;
  cv::Mat mask_;
};

// A Model as an Algorithm that looks at motion first (mode off: the same as DetectorAlgorithm). One
// instance per (stream, algorithm): it keeps that stream's background and last detections. Each result's
// values carry {"motion": {mode, skipped, carried, full_frame, crops, changed}, "inferred": {frames,
// pixels}} so that evaluation and metrics can sum what inference cost; crop runs add "regions" ([x, y, w,
// h]).
class MotionAlgorithm : public Algorithm {
 public:
  MotionAlgorithm(std::shared_ptr<Model> model, MotionOptions options, std::set<std::string> classes = {},
                  float min_score = 0.f);
  AlgorithmOutput run(std::span<const Frame> frames, StageTimes& times) override;
  // Mode off only: the model's pre-processing ahead of the forward pass, as DetectorAlgorithm does (with
  // motion, what to infer is only known once the frame's motion is seen).
  Prepared prepare(std::span<const Frame> frames, StageTimes& times) const override;
  AlgorithmOutput run_prepared(std::span<const Frame> frames, const Prepared& prepared,
                               StageTimes& times) override;
  // The model's; a run that finds nothing moving gives it back unused.
  std::unique_ptr<Reservation> reserve() override { return model_->reserve(); }
  int64_t skipped_runs() const { return skipped_runs_; }    // runs answered with the carried result
  int64_t inferred_runs() const { return inferred_runs_; }  // runs that called the model

 private:
  struct Kept {
    Detection detection;
    cv::Mat grey;  // the frame it was found in (shared), to tell a still object from one that left
  };

  std::vector<Detection> keep_wanted(std::vector<Detection> detections) const;
  std::vector<Detection> infer_full(const cv::Mat& image, const Prepared& prepared, StageTimes& times);
  std::vector<Detection> infer_crops(const cv::Mat& image, const std::vector<cv::Rect>& crops,
                                     StageTimes& times);

  std::shared_ptr<Model> model_;
  MotionOptions options_;
  std::set<std::string> classes_;
  float min_score_;
  MotionDetector motion_;
  std::vector<Kept> last_;
  double last_full_pts_ = -1e300;
  bool has_last_ = false;
  int64_t skipped_runs_ = 0, inferred_runs_ = 0;
};

}  // namespace sf
