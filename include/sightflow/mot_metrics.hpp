#pragma once
// Scoring tracks against MOT ground truth with identities: CLEAR MOT (MOTA, MOTP, switches, fragmentations,
// MT/ML) and the identity metrics (IDF1, IDP, IDR), as py-motmetrics and TrackEval define them. Also the
// MOTChallenge tracker-output format (`frame,id,x,y,w,h,score,-1,-1,-1`, 1-based frames).
#include <cstdint>
#include <iosfwd>
#include <map>
#include <opencv2/core/types.hpp>
#include <string>
#include <utility>
#include <vector>

namespace sf {

// One box of one identity: a ground-truth row or a tracker output row.
struct TrackBox {
  int64_t id = 0;
  cv::Rect2f box;
  float score = 1.f;    // tracker output only
  bool ignore = false;  // ground truth only: MOT flag 0 (a distractor, neither a miss nor a false positive)
};

// Boxes keyed by 0-based video frame index (MOT frame f is video frame f - 1).
using TrackFrames = std::map<int64_t, std::vector<TrackBox>>;

// Parses a MOT gt.txt keeping the ids (frame, id, left, top, width, height, flag, ...). Throws
// std::runtime_error naming the file and line on malformed input.
TrackFrames load_mot_tracks_ground_truth(const std::string& path);

// MOTChallenge tracker output: `frame,id,x,y,w,h,score,-1,-1,-1` with 1-based frames.
void write_mot_tracks(std::ostream& out, const TrackFrames& tracks);
void save_mot_tracks(const std::string& path, const TrackFrames& tracks);  // throws std::runtime_error
TrackFrames load_mot_tracks(const std::string& path);                      // throws std::runtime_error
// The rows of either file from a stream (ground_truth: the seventh value is the flag, else the score);
// errors name `origin` and the line.
TrackFrames parse_mot_tracks(std::istream& in, const std::string& origin, bool ground_truth);

struct MotSummary {
  double mota = 0;  // 1 - (fn + fp + id_switches) / num_gt
  double motp = 0;  // mean IoU of the matches (TrackEval's MOTP; py-motmetrics reports 1 - this)
  double idf1 = 0, idp = 0, idr = 0;
  int64_t id_switches = 0, fragmentations = 0;
  double precision = 0, recall = 0;
  int64_t tp = 0, fp = 0, fn = 0;
  int64_t num_gt = 0;  // counted (non-ignored) ground-truth boxes
  int64_t idtp = 0, idfp = 0, idfn = 0;
  int64_t num_gt_ids = 0, num_tracks = 0;
  int64_t mostly_tracked = 0;  // ground-truth ids matched in >= 80 % of their frames
  int64_t mostly_lost = 0;     // ... in < 20 %
  int64_t frames = 0;
};

// Accumulates frames in order (each frame once) and scores them. A match needs IoU >= iou_threshold.
class MotEvaluator {
 public:
  explicit MotEvaluator(double iou_threshold = 0.5) : iou_threshold_(iou_threshold) {}
  void add_frame(const std::vector<TrackBox>& truth, const std::vector<TrackBox>& tracks);
  MotSummary summary() const;

 private:
  struct TruthId {
    int64_t frames = 0, matched = 0, segments = 0;
    bool matched_last = false;  // in its previous frame (for fragmentations)
  };
  double iou_threshold_;
  int64_t frames_ = 0, tp_ = 0, fp_ = 0, fn_ = 0, switches_ = 0, track_boxes_ = 0;
  double iou_sum_ = 0;
  std::map<int64_t, int64_t> last_match_;      // truth id -> track id of its latest match (for switches)
  std::map<int64_t, int64_t> previous_frame_;  // truth id -> track id matched in the previous frame
  std::map<int64_t, TruthId> truth_ids_;
  std::map<int64_t, int64_t> track_ids_;                     // track id -> counted boxes
  std::map<std::pair<int64_t, int64_t>, int64_t> overlaps_;  // (truth id, track id) -> frames with IoU >= t
};

// Scores every frame that has ground truth or tracks.
MotSummary evaluate_tracks(const TrackFrames& truth, const TrackFrames& tracks, double iou_threshold = 0.5);

}  // namespace sf
