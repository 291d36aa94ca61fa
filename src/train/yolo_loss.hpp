#pragma once
// The YOLO (v3) loss over a darknet network's [yolo] heads, for fine-tuning: each labelled box is given to
// the one anchor (of all heads) whose shape fits it best, in the cell that holds its centre; that cell's
// anchor learns the box, its objectness and its class. Every other anchor learns "no object", except those
// whose predicted box already overlaps a labelled box by more than ignore_threshold (darknet's
// ignore_thresh): they are left alone rather than punished for a near miss.
#include <torch/types.h>

#include <vector>

#include "train/darknet_network.hpp"

namespace sf::train {

struct YoloTarget {
  int image = 0;                       // index in the batch
  int class_id = 0;                    // the network's class
  float cx = 0, cy = 0, w = 0, h = 0;  // normalised to the network input
};

struct YoloLossParts {
  torch::Tensor box, objectness, classes;  // scalars, summed over the batch and divided by its size
  torch::Tensor total() const { return box + objectness + classes; }
};

// heads: DarknetNetwork::forward's output for a batch; specs: its yolo_layers().
YoloLossParts yolo_loss(const std::vector<torch::Tensor>& heads, const std::vector<YoloLayerSpec>& specs,
                        const std::vector<YoloTarget>& targets, int input_width, int input_height,
                        float ignore_threshold = 0.5f);

}  // namespace sf::train
