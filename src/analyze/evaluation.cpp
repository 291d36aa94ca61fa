#include "sightflow/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sightflow/mot_metrics.hpp"

namespace sf {

GroundTruth without_ids(const TrackFrames& truth) {
  GroundTruth gt;
  for (const auto& [frame, boxes] : truth) {
    auto& out = gt[frame];
    for (const auto& b : boxes) out.push_back({b.box, b.ignore});
  }
  return gt;
}

GroundTruth load_mot_ground_truth(const std::string& path) {
  return without_ids(load_mot_tracks_ground_truth(path));
}

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

float small_height_limit(const std::vector<const std::vector<GroundTruthBox>*>& frames) {
  std::vector<float> heights;
  for (const auto* truth : frames) {
    for (const auto& t : *truth)
      if (!t.ignore) heights.push_back(t.box.height);
  }
  if (heights.empty()) return -1;
  auto third = heights.begin() + long((heights.size() - 1) / 3);
  std::nth_element(heights.begin(), third, heights.end());
  return *third;
}

void DetectionEvaluator::add_frame(const std::vector<Detection>& detections,
                                   const std::vector<GroundTruthBox>& truth) {
  ++frames_;
  std::vector<size_t> order(detections.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return detections[a].score > detections[b].score; });
  std::vector<bool> taken(truth.size(), false);
  int64_t counted_truth = 0, counted_detections = 0;
  for (const auto& t : truth) {
    counted_truth += t.ignore ? 0 : 1;
    small_positives_ += !t.ignore && t.box.height <= small_height_ ? 1 : 0;
  }
  positives_ += counted_truth;
  int64_t frame_tp = 0;
  for (size_t i : order) {
    const auto& d = detections[i];
    // Best unmatched counted truth box first; then an ignore region may absorb the detection.
    int best = -1;
    float best_iou = float(iou_threshold_);
    for (size_t j = 0; j < truth.size(); ++j) {
      if (taken[j] || truth[j].ignore) continue;
      float v = iou(d.box, truth[j].box);
      if (v >= best_iou) best_iou = v, best = int(j);
    }
    if (best >= 0) {
      taken[size_t(best)] = true;
      if (truth[size_t(best)].box.height <= small_height_) ++small_tp_;
      ++frame_tp;
      ++counted_detections;
      scored_.emplace_back(d.score, true);
      continue;
    }
    bool on_ignored = std::any_of(truth.begin(), truth.end(), [&](const GroundTruthBox& t) {
      return t.ignore && iou(d.box, t.box) >= iou_threshold_;
    });
    if (on_ignored) continue;
    ++counted_detections;
    ++fp_;
    scored_.emplace_back(d.score, false);
  }
  tp_ += frame_tp;
  fn_ += counted_truth - frame_tp;
  abs_count_error_ += std::abs(double(counted_detections - counted_truth));
}

EvalSummary DetectionEvaluator::summary() const {
  EvalSummary s;
  s.frames = frames_;
  s.true_positives = tp_;
  s.false_positives = fp_;
  s.false_negatives = fn_;
  s.precision = tp_ + fp_ > 0 ? double(tp_) / double(tp_ + fp_) : 0;
  s.recall = positives_ > 0 ? double(tp_) / double(positives_) : 0;
  s.count_mae = frames_ > 0 ? abs_count_error_ / double(frames_) : 0;
  s.small_positives = small_positives_;
  s.recall_small = small_positives_ > 0 ? double(small_tp_) / double(small_positives_) : 0;
  // All-point interpolated AP (VOC 2010+): area under the precision envelope over recall.
  auto scored = scored_;
  std::stable_sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<double> precision, recall;
  int64_t tp = 0, fp = 0;
  for (auto& [score, is_tp] : scored) {
    (is_tp ? tp : fp)++;
    precision.push_back(double(tp) / double(tp + fp));
    recall.push_back(positives_ > 0 ? double(tp) / double(positives_) : 0);
  }
  for (int i = int(precision.size()) - 2; i >= 0; --i)
    precision[i] = std::max(precision[i], precision[i + 1]);
  double ap = 0, prev_recall = 0;
  for (size_t i = 0; i < precision.size(); ++i) {
    ap += (recall[i] - prev_recall) * precision[i];
    prev_recall = recall[i];
  }
  s.average_precision = ap;
  return s;
}

}  // namespace sf
