#pragma once
// Scoring detections against MOT-format ground truth (MOTChallenge gt.txt).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sightflow/config.hpp"
#include "sightflow/detection.hpp"
#include "sightflow/model.hpp"
#include "sightflow/mot_metrics.hpp"
#include "sightflow/motion.hpp"
#include "sightflow/stage.hpp"

namespace sf {

struct GroundTruthBox {
  cv::Rect2f box;
  bool ignore = false;  // MOT flag 0: neither a miss nor a false positive
};

// Ground truth keyed by 0-based video frame index (MOT frame f is video frame f - 1).
using GroundTruth = std::map<int64_t, std::vector<GroundTruthBox>>;

// Parses a MOT gt.txt (frame, id, left, top, width, height, flag, ...). Throws std::runtime_error naming
// the file and line on malformed input.
GroundTruth load_mot_ground_truth(const std::string& path);
// The same boxes without their ids (load_mot_tracks_ground_truth keeps them).
GroundTruth without_ids(const TrackFrames& truth);

float iou(const cv::Rect2f& a, const cv::Rect2f& b);

struct EvalSummary {
  int64_t frames = 0;
  int64_t true_positives = 0, false_positives = 0, false_negatives = 0;
  double precision = 0, recall = 0, average_precision = 0;
  double count_mae = 0;  // mean absolute error of per-frame counts (detections vs. non-ignored truth)
  // Recall over the counted truth boxes no taller than the small-height limit (set_small_height).
  double recall_small = 0;
  int64_t small_positives = 0;
};

// The height below which a third of the counted (non-ignored) truth boxes lie: the 33rd percentile.
float small_height_limit(const std::vector<const std::vector<GroundTruthBox>*>& frames);

// Accumulates per-frame matches (greedy by score, IoU >= threshold) and scores them.
class DetectionEvaluator {
 public:
  explicit DetectionEvaluator(double iou_threshold = 0.5) : iou_threshold_(iou_threshold) {}
  void add_frame(const std::vector<Detection>& detections, const std::vector<GroundTruthBox>& truth);
  EvalSummary summary() const;
  // Counted truth boxes at most this tall also count towards recall_small (default: none).
  void set_small_height(float limit) { small_height_ = limit; }

 private:
  double iou_threshold_;
  float small_height_ = -1;
  int64_t small_positives_ = 0, small_tp_ = 0;
  int64_t frames_ = 0, tp_ = 0, fp_ = 0, fn_ = 0, positives_ = 0;
  double abs_count_error_ = 0;
  std::vector<std::pair<float, bool>> scored_;  // (score, is true positive) for AP
};

}  // namespace sf

namespace sf {

// `sightflow eval`: run a detector over a video in offline mode and score it against ground truth.
struct VideoEvalOptions {
  std::string source;
  std::string ground_truth;  // MOT gt.txt
  // What runs, built by the one builder (build_algorithm, build_stages): detector, params, min_score,
  // motion, profile, stages (`eval --track`: the track stage). Its classes default to {label}; its
  // schedule is set from `every`.
  AlgorithmConfig algorithm;
  int every = 1;  // evaluate every Nth frame (the schedule's frame_step)
  double iou = 0.5;
  std::string label = "person";  // detections with this label are scored
  int64_t max_frames = -1;       // stop the video after this many frames
  bool score_tracks = false;     // also score the detections with a track_id against the truth's ids
  // Lines ({"name", "points": [x1, y1, x2, y2]}, the lines stage's form) whose crossings by the tracks are
  // compared with the ground truth's, both counted by the lines stage itself (needs score_tracks).
  nlohmann::json lines = nlohmann::json::array();
};

struct VideoEvalResult {
  EvalSummary summary;
  double seconds = 0;                  // wall time of the run (decode + inference)
  double fps = 0;                      // evaluated frames per second of wall time
  int64_t frames_inferred = 0;         // scheduled frames the model ran on (not carried over)
  int64_t pixels_inferred = 0;         // input pixels given to the model: whole frames or crops
  int64_t runs_skipped = 0;            // scheduled frames answered with the previous detections
  std::optional<MotSummary> tracking;  // with score_tracks
  TrackFrames tracks;                  // with score_tracks: the detections with a track_id, per frame
  struct LineCounts {
    std::string name;
    int64_t in = 0, out = 0, truth_in = 0, truth_out = 0;
  };
  std::vector<LineCounts> lines;  // with lines
};

VideoEvalResult evaluate_on_video(const VideoEvalOptions& options);

}  // namespace sf
