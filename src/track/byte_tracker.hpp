#pragma once
// ByteTrack-style multi-object tracking (Zhang et al. 2022), without any pipeline dependency: boxes in,
// track ids out. Time is media time (pts seconds), so gaps and motion are the same whatever the frame rate
// or the frames skipped.
//
// Per update: every track's Kalman box is predicted to pts; per class, high-score detections are matched
// to the confirmed tracks (tracked and lost) by IoU; the low-score ones then to the tracked tracks left
// (a partly hidden person scores low but is still there: it keeps its track alive instead of being a
// false positive or a gap); remaining high ones to the tentative tracks, then start new tentative tracks.
// A track is confirmed after min_hits hits and only then gets an id (ids stay compact); a confirmed track
// unseen for more than max_gap seconds is removed, before that a sighting resumes its id.
#include <cstdint>
#include <string>
#include <vector>

#include "sightflow/detection.hpp"
#include "track/box_kalman_filter.hpp"

namespace sf {

// Defaults tuned on PETS09-S2L1 with yolox-nano detections (bench/RESULTS.md): every frame and every 3rd.
struct ByteTrackerOptions {
  float high = 0.45f;          // detections at or above: first association, may start tracks
  float low = 0.1f;            // below: ignored; [low, high): second association only
  float new_track = 0.7f;      // an unmatched detection starts a track only from this score; this, not
                               // min_hits, is what keeps one-off false positives from getting ids
  float match_iou = 0.1f;      // least IoU for the first association (high detections)
  float low_iou = 0.45f;       // least IoU for the second (low detections: stricter, they are less sure)
  float tentative_iou = 0.3f;  // least IoU between a tentative track and a high detection
  int min_hits = 1;            // hits before a track is confirmed and gets an id (more: later ids, which
                               // costs most when frames are skipped)
  // A detection in [high, new_track) may start a track too, but it needs this many sightings (in a row,
  // up to tentative_gap) before it gets an id: someone half hidden behind a post scores 0.4-0.6 frame
  // after frame, where a one-off false positive does not persist. 0: such detections start no track.
  int unsure_hits = 4;
  double max_gap = 2.0;      // media seconds a confirmed track survives unseen
  double tentative_gap = 0;  // media seconds a tentative track survives unseen (0: first miss ends it)
  // A detection that also overlaps another confirmed track's prediction this much (people crossing, one
  // box for two) corrects its track with occlusion_noise times the measurement noise, so the track keeps
  // to its own motion instead of being dragged along with the other person.
  float occlusion_iou = 0.2f;
  double occlusion_noise = 6.0;
  bool smooth_boxes = true;  // tracked detections get the track's filtered box
  BoxNoise noise;
};

struct TrackerStats {
  int tracked = 0;  // confirmed tracks seen this update
  int lost = 0;     // confirmed tracks kept while unseen
  int tentative = 0;
  int new_ids = 0;  // tracks confirmed this update
};

class ByteTracker {
 public:
  explicit ByteTracker(ByteTrackerOptions options = {});

  // Sets the track_id of detections matched to confirmed tracks (others keep none). pts must not go
  // backwards; if it does (a source restarted), every track is forgotten, ids keep counting.
  TrackerStats update(std::vector<Detection>& detections, double pts);

  // For detections that are not new sightings (carried over from an earlier run unchanged): gives each the
  // id of the confirmed track whose last sighting it overlaps most, changes no track.
  void relabel(std::vector<Detection>& detections) const;

  // Kalman boxes of the confirmed tracks (id, box at the last update: predicted for a lost one).
  struct TrackView {
    int64_t id;
    std::string label;
    cv::Rect2f box;
    bool lost;
    double unseen;  // media seconds since its last sighting, at the last update
  };
  std::vector<TrackView> tracks() const;

 private:
  enum class State { Tentative, Tracked, Lost };
  struct Track {
    std::string label;
    BoxKalmanFilter kf;
    State state = State::Tentative;
    int hits = 0;
    int needed_hits = 1;  // hits before it is confirmed (min_hits, or unsure_hits for an unsure start)
    int64_t id = 0;       // 0 until confirmed
    double last_seen = 0;
    cv::Rect2f last_box;  // the detection box of the last sighting (for relabel)
  };

  void hit(Track& track, Detection& detection, double pts, TrackerStats& stats, double noise_scale = 1.0);

  ByteTrackerOptions options_;
  std::vector<Track> tracks_;
  int64_t next_id_ = 1;
  double last_pts_ = 0;
  bool started_ = false;
};

}  // namespace sf
