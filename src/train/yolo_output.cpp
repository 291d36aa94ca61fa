#include "train/yolo_output.hpp"

namespace sf::train {

torch::Tensor yolo_rows_like_opencv(const torch::Tensor& raw, const YoloLayerSpec& spec, int input_width,
                                    int input_height, float class_threshold) {
  const int64_t n = raw.size(0), h = raw.size(2), w = raw.size(3);
  const auto anchors = int64_t(spec.anchors.size());
  const int64_t fields = 5 + spec.classes;
  // N, H, W, A, 5+C: OpenCV permutes the convolution's output to channels-last before its region layer.
  const torch::Tensor t = raw.view({n, anchors, fields, h, w}).permute({0, 3, 4, 1, 2});
  const auto options = torch::TensorOptions().dtype(raw.dtype()).device(raw.device());
  const torch::Tensor grid_x = torch::arange(w, options).view({1, 1, w, 1});
  const torch::Tensor grid_y = torch::arange(h, options).view({1, h, 1, 1});
  std::vector<float> anchor_w, anchor_h;
  for (const auto& [aw, ah] : spec.anchors) {
    anchor_w.push_back(aw / float(input_width));
    anchor_h.push_back(ah / float(input_height));
  }
  const torch::Tensor anchor_w_t = torch::tensor(anchor_w, options).view({1, 1, 1, anchors});
  const torch::Tensor anchor_h_t = torch::tensor(anchor_h, options).view({1, 1, 1, anchors});
  const float s = spec.scale_x_y;
  const auto offset = [&](const torch::Tensor& v) { return torch::sigmoid(v) * s - (s - 1.f) / 2.f; };
  const torch::Tensor cx = (offset(t.select(4, 0)) + grid_x) / double(w);
  const torch::Tensor cy = (offset(t.select(4, 1)) + grid_y) / double(h);
  const torch::Tensor bw = torch::exp(t.select(4, 2)) * anchor_w_t;
  const torch::Tensor bh = torch::exp(t.select(4, 3)) * anchor_h_t;
  const torch::Tensor objectness = torch::sigmoid(t.select(4, 4));
  torch::Tensor classes = torch::sigmoid(t.narrow(4, 5, spec.classes)) * objectness.unsqueeze(4);
  classes = torch::where(classes > class_threshold, classes, torch::zeros_like(classes));
  const torch::Tensor rows = torch::cat({torch::stack({cx, cy, bw, bh, objectness}, 4), classes}, 4);
  return rows.reshape({n, h * w * anchors, fields});
}

}  // namespace sf::train
