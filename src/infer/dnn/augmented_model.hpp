#pragma once
// Test-time augmentation for a catalog detector (`--param tta=...`): the same network run at several input
// sizes and on the mirrored image, its boxes fused into one set. Slower by the number of passes, so it is
// for labelling (`dataset capture`), where a reference model's false boxes become the edge model's
// mistakes, not for live streams. Measured on vtest.avi frames 0-399 (bench/RESULTS.md): yolox-nano@800
// alone has precision 0.878, with its mirrored pass fused 0.907 at the same recall.
#include <memory>
#include <vector>

#include "sightflow/model.hpp"

namespace sf {

struct AugmentedPass {
  std::unique_ptr<Model> model;  // the network at this pass's input size, with a low score threshold
  bool mirrored = false;         // run on the image flipped left to right
};

// Weighted box fusion (Solovyev et al., 2019) of per-pass detections, per label: boxes of different passes
// that overlap a cluster's fused box by more than `iou` join it; the fused box is the score-weighted mean
// of its members and its score the sum of their scores over the number of passes, so an object one pass of
// two saw scores half. Clusters scoring under `min_score` are dropped. Sorted by score, highest first.
std::vector<Detection> fuse_passes(const std::vector<std::vector<Detection>>& passes, float iou,
                                   float min_score);

class AugmentedModel : public Model {
 public:
  AugmentedModel(std::vector<AugmentedPass> passes, float fuse_iou, float score_threshold);
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times = nullptr) override;

 private:
  std::vector<AugmentedPass> passes_;
  float fuse_iou_, score_threshold_;
  ModelInfo info_;
};

}  // namespace sf
