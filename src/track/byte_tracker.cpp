#include "track/byte_tracker.hpp"

#include <algorithm>
#include <map>

#include "sightflow/assignment.hpp"
#include "sightflow/evaluation.hpp"

namespace sf {

namespace {

// Matches rows (tracks) to columns (detections) on 1 - IoU, pairs under min_iou forbidden. Returns per
// track its detection or -1. The solver puts the number of pairs first, which would trade one good pair
// for two poor ones (an identity swap in a crowd); so, as ByteTrack's lapjv with a cost limit, every track
// and detection may also stay unmatched at half the limit: a pair is made only where it lowers the total.
std::vector<int> match(const std::vector<cv::Rect2f>& tracks, const std::vector<cv::Rect2f>& detections,
                       float min_iou) {
  const size_t n = tracks.size(), m = detections.size();
  std::vector<int> out(n, -1);
  if (n == 0 || m == 0) return out;
  const double alone = (1.0 - min_iou) / 2;
  std::vector<std::vector<double>> cost(n + m, std::vector<double>(m + n, kForbidden));
  bool any = false;
  for (size_t t = 0; t < n; ++t) {
    for (size_t d = 0; d < m; ++d) {
      const float o = iou(tracks[t], detections[d]);
      if (o >= min_iou) cost[t][d] = 1.0 - o, any = true;
    }
    cost[t][m + t] = alone;  // track t unmatched
  }
  if (!any) return out;
  for (size_t d = 0; d < m; ++d) {
    cost[n + d][d] = alone;                                 // detection d unmatched
    for (size_t t = 0; t < n; ++t) cost[n + d][m + t] = 0;  // dummy with dummy
  }
  const auto rows = solve_assignment(cost);
  for (size_t t = 0; t < n; ++t)
    if (rows[t] >= 0 && size_t(rows[t]) < m) out[t] = rows[t];
  return out;
}

}  // namespace

ByteTracker::ByteTracker(ByteTrackerOptions options) : options_(options) {}

void ByteTracker::hit(Track& track, Detection& detection, double pts, TrackerStats& stats,
                      double noise_scale) {
  track.kf.correct(detection.box, noise_scale);
  track.last_seen = pts;
  track.last_box = detection.box;
  ++track.hits;
  // A sure sighting confirms as if the track had started from it.
  if (detection.score >= options_.new_track)
    track.needed_hits = std::min(track.needed_hits, options_.min_hits);
  if (track.state == State::Tentative && track.hits >= track.needed_hits) {
    track.id = next_id_++;
    ++stats.new_ids;
  }
  if (track.id == 0) return;
  track.state = State::Tracked;
  detection.track_id = track.id;
  // The filtered box: steadier than one detection (less jitter, less cut off where partly hidden).
  if (options_.smooth_boxes) detection.box = track.kf.box();
}

TrackerStats ByteTracker::update(std::vector<Detection>& detections, double pts) {
  TrackerStats stats;
  if (started_ && pts < last_pts_) tracks_.clear();
  const double previous = started_ ? last_pts_ : pts;
  started_ = true;
  last_pts_ = pts;
  // Tracks unseen for too long are gone before they can be matched again. A confirmed track's gap is the
  // time between sightings; a tentative one's is how long it has already gone unseen (0: it goes at its
  // first miss, as in ByteTrack).
  std::erase_if(tracks_, [&](const Track& t) {
    return t.id == 0 ? previous - t.last_seen > options_.tentative_gap : pts - t.last_seen > options_.max_gap;
  });
  for (auto& t : tracks_) {
    if (t.state == State::Lost) t.kf.stop_resizing();
    t.kf.predict(pts);
  }
  for (auto& d : detections) d.track_id.reset();

  // Per class: detections only ever match tracks of their own label.
  std::map<std::string, std::vector<int>> detections_of;
  for (int i = 0; i < int(detections.size()); ++i)
    if (detections[i].score >= options_.low) detections_of[detections[i].label].push_back(i);
  std::vector<char> track_used(tracks_.size(), 0);

  for (const auto& [label, indices] : detections_of) {
    std::vector<int> high, low;
    for (int i : indices) (detections[i].score >= options_.high ? high : low).push_back(i);
    // The confirmed tracks' predictions, before any correction: for the occlusion test.
    std::vector<std::pair<int, cv::Rect2f>> predicted;
    for (int t = 0; t < int(tracks_.size()); ++t)
      if (tracks_[t].label == label && tracks_[t].id != 0) predicted.push_back({t, tracks_[t].kf.box()});
    auto shared = [&](int track, const cv::Rect2f& box) {
      for (const auto& [t, b] : predicted)
        if (t != track && iou(b, box) >= options_.occlusion_iou) return true;
      return false;
    };

    // Runs one association: the tracks chosen by `take` against `dets`, the matched ones removed from dets.
    auto associate = [&](auto take, std::vector<int>& dets, float min_iou) {
      std::vector<int> rows;
      std::vector<cv::Rect2f> track_boxes, det_boxes;
      for (int t = 0; t < int(tracks_.size()); ++t)
        if (!track_used[t] && tracks_[t].label == label && take(tracks_[t]))
          rows.push_back(t), track_boxes.push_back(tracks_[t].kf.box());
      for (int d : dets) det_boxes.push_back(detections[d].box);
      auto matched = match(track_boxes, det_boxes, min_iou);
      std::vector<char> det_used(dets.size(), 0);
      for (size_t r = 0; r < rows.size(); ++r) {
        if (matched[r] < 0) continue;
        track_used[rows[r]] = 1;
        det_used[matched[r]] = 1;
        auto& d = detections[dets[matched[r]]];
        hit(tracks_[rows[r]], d, pts, stats, shared(rows[r], d.box) ? options_.occlusion_noise : 1.0);
      }
      std::vector<int> left;
      for (size_t i = 0; i < dets.size(); ++i)
        if (!det_used[i]) left.push_back(dets[i]);
      dets = std::move(left);
    };
    associate([](const Track& t) { return t.state != State::Tentative; }, high, options_.match_iou);
    associate([](const Track& t) { return t.state == State::Tracked; }, low, options_.low_iou);
    associate([](const Track& t) { return t.state == State::Tentative; }, high, options_.tentative_iou);

    for (int d : high) {
      const bool sure = detections[d].score >= options_.new_track;
      // An unsure box over a confirmed track's prediction is more likely a piece of a crowd than a new
      // person.
      if (!sure && (options_.unsure_hits == 0 || shared(-1, detections[d].box))) continue;
      tracks_.push_back(Track{label, BoxKalmanFilter(detections[d].box, pts, options_.noise),
                              State::Tentative, 0, sure ? options_.min_hits : options_.unsure_hits, 0, pts,
                              detections[d].box});
      track_used.push_back(1);
      hit(tracks_.back(), detections[d], pts, stats);
    }
  }

  // Unseen confirmed tracks are lost (kept until max_gap); tentative ones go at their first miss, as in
  // ByteTrack, unless tentative_gap allows a few (skipped frames make misses likelier).
  for (auto& t : tracks_)
    if (t.last_seen != pts && t.id != 0) t.state = State::Lost;
  for (const auto& t : tracks_) {
    if (t.id == 0)
      ++stats.tentative;
    else if (t.state == State::Lost)
      ++stats.lost;
    else
      ++stats.tracked;
  }
  return stats;
}

void ByteTracker::relabel(std::vector<Detection>& detections) const {
  for (auto& d : detections) d.track_id.reset();
  std::map<std::string, std::vector<int>> detections_of;
  for (int i = 0; i < int(detections.size()); ++i) detections_of[detections[i].label].push_back(i);
  for (const auto& [label, indices] : detections_of) {
    std::vector<cv::Rect2f> last, boxes;
    std::vector<int64_t> ids;
    for (const auto& t : tracks_)
      if (t.id != 0 && t.label == label) last.push_back(t.last_box), ids.push_back(t.id);
    for (int i : indices) boxes.push_back(detections[i].box);
    // A carried box is the very box of an earlier sighting: demand a clear overlap, one id per box.
    const auto matched = match(last, boxes, 0.5f);
    for (size_t t = 0; t < last.size(); ++t)
      if (matched[t] >= 0) detections[indices[matched[t]]].track_id = ids[t];
  }
}

std::vector<ByteTracker::TrackView> ByteTracker::tracks() const {
  std::vector<TrackView> out;
  for (const auto& t : tracks_)
    if (t.id != 0)
      out.push_back({t.id, t.label, t.kf.box(), t.state == State::Lost, last_pts_ - t.last_seen});
  return out;
}

}  // namespace sf
