#pragma once
// Seeded augmentation of a training batch for fine-tuning: a camera's few hundred frames look much alike,
// so each step sees them mirrored, zoomed in or out and re-coloured, with the boxes moved to match.
#include <torch/types.h>

#include <random>
#include <vector>

#include "train/yolo_loss.hpp"

namespace sf::train {

struct AugmentOptions {
  bool flip = true;     // mirror left-right with probability 0.5
  float scale = 0.25f;  // zoom by a factor in [1 - scale, 1 + scale]: grey border or crop; 0: off
  float colour = 0.3f;  // brightness, contrast and saturation each by a factor in [1 - c, 1 + c]; 0: off
};

// images: N x 3 x H x W in [0, 1] (RGB), changed in place; targets: their boxes (YoloTarget::image indexes
// the batch), moved with their image, cut to what stays visible, dropped when too little of one does.
// The same generator state gives the same batch.
void augment_batch(torch::Tensor& images, std::vector<YoloTarget>& targets, const AugmentOptions& options,
                   std::mt19937_64& random);

}  // namespace sf::train
