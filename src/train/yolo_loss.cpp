#include "train/yolo_loss.hpp"

#include <ATen/TensorIndexing.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sf::train {
namespace {

// Pairwise IoU of boxes given as (cx, cy, w, h) rows: a is P x 4, b is K x 4; returns P x K.
torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b) {
  const auto corners = [](const torch::Tensor& t) {
    const torch::Tensor half = t.narrow(1, 2, 2) / 2;
    return std::pair{t.narrow(1, 0, 2) - half, t.narrow(1, 0, 2) + half};
  };
  const auto [a_min, a_max] = corners(a);
  const auto [b_min, b_max] = corners(b);
  const torch::Tensor low = torch::max(a_min.unsqueeze(1), b_min.unsqueeze(0));
  const torch::Tensor high = torch::min(a_max.unsqueeze(1), b_max.unsqueeze(0));
  const torch::Tensor overlap = (high - low).clamp_min(0).prod(2);
  const torch::Tensor area_a = a.narrow(1, 2, 2).prod(1).unsqueeze(1);
  const torch::Tensor area_b = b.narrow(1, 2, 2).prod(1).unsqueeze(0);
  return overlap / (area_a + area_b - overlap).clamp_min(1e-9);
}

// IoU of two boxes sharing a centre: how well an anchor's shape fits a box.
float shape_iou(float w1, float h1, float w2, float h2) {
  const float overlap = std::min(w1, w2) * std::min(h1, h2);
  return overlap / (w1 * h1 + w2 * h2 - overlap);
}

}  // namespace

YoloLossParts yolo_loss(const std::vector<torch::Tensor>& heads, const std::vector<YoloLayerSpec>& specs,
                        const std::vector<YoloTarget>& targets, int input_width, int input_height,
                        float ignore_threshold) {
  if (heads.size() != specs.size() || heads.empty())
    throw std::invalid_argument("yolo_loss: one head per [yolo] layer expected");
  const int64_t batch = heads.front().size(0);
  const auto options = heads.front().options();

  // Each target's anchor: the best shape among all heads' anchors.
  std::vector<std::pair<size_t, int64_t>> owner;  // (head, anchor) per target
  for (const YoloTarget& t : targets) {
    if (t.image < 0 || t.image >= batch)
      throw std::invalid_argument("yolo_loss: target image out of the batch");
    if (t.class_id < 0 || t.class_id >= specs.front().classes)
      throw std::invalid_argument("yolo_loss: class " + std::to_string(t.class_id) +
                                  " is not one of the network's " + std::to_string(specs.front().classes));
    float best = -1;
    std::pair<size_t, int64_t> where{0, 0};
    for (size_t l = 0; l < specs.size(); ++l)
      for (size_t a = 0; a < specs[l].anchors.size(); ++a) {
        const auto [aw, ah] = specs[l].anchors[a];
        const float iou = shape_iou(t.w * float(input_width), t.h * float(input_height), aw, ah);
        if (iou > best) best = iou, where = {l, int64_t(a)};
      }
    owner.push_back(where);
  }

  torch::Tensor box = torch::zeros({}, options), objectness = torch::zeros({}, options),
                classes = torch::zeros({}, options);
  for (size_t l = 0; l < heads.size(); ++l) {
    const YoloLayerSpec& spec = specs[l];
    const int64_t anchors = int64_t(spec.anchors.size()), h = heads[l].size(2), w = heads[l].size(3);
    // N, A, H, W, 5+C
    const torch::Tensor p = heads[l].view({batch, anchors, 5 + spec.classes, h, w}).permute({0, 1, 3, 4, 2});

    // Predicted boxes, without gradient: only for the ignore mask.
    torch::Tensor ignore = torch::zeros({batch, anchors, h, w}, options.dtype(torch::kBool));
    {
      torch::NoGradGuard no_grad;
      std::vector<float> anchor_w, anchor_h;
      for (const auto& [aw, ah] : spec.anchors)
        anchor_w.push_back(aw / float(input_width)), anchor_h.push_back(ah / float(input_height));
      const torch::Tensor gx = torch::arange(w, options).view({1, 1, 1, w});
      const torch::Tensor gy = torch::arange(h, options).view({1, 1, h, 1});
      const torch::Tensor predicted = torch::stack(
          {(torch::sigmoid(p.select(4, 0)) + gx) / double(w),
           (torch::sigmoid(p.select(4, 1)) + gy) / double(h),
           torch::exp(p.select(4, 2)) * torch::tensor(anchor_w, options).view({1, anchors, 1, 1}),
           torch::exp(p.select(4, 3)) * torch::tensor(anchor_h, options).view({1, anchors, 1, 1})},
          4);
      for (int64_t n = 0; n < batch; ++n) {
        std::vector<float> truth;
        for (const YoloTarget& t : targets)
          if (t.image == n) truth.insert(truth.end(), {t.cx, t.cy, t.w, t.h});
        if (truth.empty()) continue;
        const torch::Tensor iou =
            box_iou(predicted[n].reshape({-1, 4}), torch::tensor(truth, options).view({-1, 4}));
        ignore[n] = (std::get<0>(iou.max(1)) > ignore_threshold).view({anchors, h, w});
      }
    }

    std::vector<int64_t> idx_n, idx_a, idx_y, idx_x, labels;
    std::vector<float> box_targets, box_scales;
    for (size_t i = 0; i < targets.size(); ++i) {
      if (owner[i].first != l) continue;
      const YoloTarget& t = targets[i];
      const int64_t a = owner[i].second;
      const int64_t cell_x = std::clamp<int64_t>(int64_t(t.cx * float(w)), 0, w - 1);
      const int64_t cell_y = std::clamp<int64_t>(int64_t(t.cy * float(h)), 0, h - 1);
      idx_n.push_back(t.image), idx_a.push_back(a), idx_y.push_back(cell_y), idx_x.push_back(cell_x);
      labels.push_back(t.class_id);
      const auto [aw, ah] = spec.anchors[size_t(a)];
      box_targets.insert(box_targets.end(), {t.cx * float(w) - float(cell_x), t.cy * float(h) - float(cell_y),
                                             std::log(std::max(t.w * float(input_width), 1e-3f) / aw),
                                             std::log(std::max(t.h * float(input_height), 1e-3f) / ah)});
      box_scales.push_back(2.f - t.w * t.h);  // small boxes weigh more, as in darknet
    }

    torch::Tensor object = torch::zeros({batch, anchors, h, w}, options);
    torch::Tensor weight = (~ignore).to(options.dtype());
    if (!idx_n.empty()) {
      const auto long_tensor = [](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong); };
      const std::vector<at::indexing::TensorIndex> cells = {long_tensor(idx_n), long_tensor(idx_a),
                                                            long_tensor(idx_y), long_tensor(idx_x)};
      object.index_put_(cells, 1.0);
      weight.index_put_(cells, 1.0);
      const torch::Tensor assigned = p.index(cells);  // M x (5+C)
      const torch::Tensor wanted = torch::tensor(box_targets, options).view({-1, 4});
      const torch::Tensor scale = torch::tensor(box_scales, options).unsqueeze(1);
      const torch::Tensor predicted_box =
          torch::cat({torch::sigmoid(assigned.narrow(1, 0, 2)), assigned.narrow(1, 2, 2)}, 1);
      box = box + (scale * (predicted_box - wanted).pow(2)).sum();
      const torch::Tensor one_hot = torch::one_hot(long_tensor(labels), spec.classes).to(options.dtype());
      classes = classes + torch::binary_cross_entropy_with_logits(assigned.narrow(1, 5, spec.classes),
                                                                  one_hot, {}, {}, at::Reduction::Sum);
    }
    objectness = objectness + torch::binary_cross_entropy_with_logits(p.select(4, 4), object, weight, {},
                                                                      at::Reduction::Sum);
  }
  const double n = double(batch);
  return {box / n, objectness / n, classes / n};
}

}  // namespace sf::train
