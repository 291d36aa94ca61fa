#include "infer/dnn/augmented_model.hpp"

#include <algorithm>
#include <map>
#include <opencv2/core.hpp>
#include <stdexcept>

#include "sightflow/evaluation.hpp"  // iou

namespace sf {
namespace {

struct Cluster {
  float score_sum = 0;
  cv::Point2f weighted_tl, weighted_br;  // score-weighted sums of the members' corners
  std::vector<size_t> passes;            // at most one box per pass
  Detection first;                       // the highest-scoring member: label, class id, landmarks
  cv::Rect2f fused() const { return {weighted_tl / score_sum, weighted_br / score_sum}; }
};

}  // namespace

std::vector<Detection> fuse_passes(const std::vector<std::vector<Detection>>& passes, float iou,
                                   float min_score) {
  struct Candidate {
    const Detection* detection;
    size_t pass;
  };
  std::map<std::string, std::vector<Candidate>> by_label;
  for (size_t p = 0; p < passes.size(); ++p)
    for (const auto& d : passes[p]) by_label[d.label].push_back({&d, p});
  std::vector<Detection> fused;
  for (auto& [label, candidates] : by_label) {
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return a.detection->score > b.detection->score;
    });
    std::vector<Cluster> clusters;
    for (const auto& [d, pass] : candidates) {
      Cluster* best = nullptr;
      float best_iou = iou;
      for (auto& c : clusters) {
        if (std::find(c.passes.begin(), c.passes.end(), pass) != c.passes.end()) continue;
        if (float v = sf::iou(c.fused(), d->box); v > best_iou) best_iou = v, best = &c;
      }
      if (!best) {
        clusters.push_back({0, {}, {}, {}, *d});
        best = &clusters.back();
      }
      best->score_sum += d->score;
      best->weighted_tl += d->score * d->box.tl();
      best->weighted_br += d->score * d->box.br();
      best->passes.push_back(pass);
    }
    for (const auto& c : clusters) {
      const float score = c.score_sum / float(passes.size());
      if (score < min_score || c.score_sum <= 0) continue;
      Detection d = c.first;
      d.score = score;
      d.box = c.fused();
      fused.push_back(std::move(d));
    }
  }
  std::stable_sort(fused.begin(), fused.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return fused;
}

AugmentedModel::AugmentedModel(std::vector<AugmentedPass> passes, float fuse_iou, float score_threshold)
    : passes_(std::move(passes)), fuse_iou_(fuse_iou), score_threshold_(score_threshold) {
  if (passes_.empty()) throw std::invalid_argument("test-time augmentation needs at least one pass");
  info_ = passes_.front().model->info();
  if (info_.task != ModelTask::Detection)
    throw std::invalid_argument("model '" + info_.name + "': parameter 'tta' is for detection models");
  info_.max_batch = 1;
}

std::vector<ModelOutput> AugmentedModel::infer(std::span<const cv::Mat> images, StageTimes* times) {
  std::vector<ModelOutput> outputs;
  for (const auto& image : images) {
    std::vector<std::vector<Detection>> per_pass;
    cv::Mat mirrored;
    for (auto& pass : passes_) {
      if (pass.mirrored && mirrored.empty()) cv::flip(image, mirrored, 1);
      const cv::Mat& input = pass.mirrored ? mirrored : image;
      auto detections =
          std::move(pass.model->infer(std::span<const cv::Mat>(&input, 1), times).at(0).detections);
      if (pass.mirrored)
        for (auto& d : detections) {
          d.box.x = float(image.cols) - d.box.x - d.box.width;
          for (auto& point : d.landmarks) point.x = float(image.cols) - point.x;
        }
      per_pass.push_back(std::move(detections));
    }
    outputs.push_back({fuse_passes(per_pass, fuse_iou_, score_threshold_), {}});
  }
  return outputs;
}

}  // namespace sf
