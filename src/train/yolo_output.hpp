#pragma once
// A [yolo] layer's raw input turned into the rows OpenCV DNN's darknet importer outputs for it, so that a
// libtorch network can be checked against, and used in place of, the model the pipeline runs.
#include <torch/types.h>

#include "train/darknet_network.hpp"

namespace sf::train {

// raw: N x A*(5+C) x H x W. Returns N x (H*W*A) x (5+C), rows ordered by cell (y, then x), then anchor:
// cx, cy (the cell plus the sigmoid, stretched by scale_x_y, over the grid), w, h (exp times the anchor over
// the network input), objectness (sigmoid), then each class's sigmoid times objectness, zeroed where not
// above class_threshold (OpenCV's region layer uses 0.2).
torch::Tensor yolo_rows_like_opencv(const torch::Tensor& raw, const YoloLayerSpec& spec, int input_width,
                                    int input_height, float class_threshold = 0.2f);

}  // namespace sf::train
