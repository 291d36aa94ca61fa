#pragma once
// Fine-tuning a darknet network on a dataset written by `sightflow dataset capture`: images stretched to
// the network input (the catalog's preprocessing for these models: plain resize, RGB, [0, 1]), the
// reference's boxes as targets, Adam on the YOLO loss. Batch-norm statistics stay as loaded (batches of a
// few frames of one camera would pull them away from what the weights were trained with); the
// convolutions and batch-norm scales and biases learn. The start of `sightflow tune --finetune` (issue 18):
// no augmentation, validation or early stopping yet.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dataset/dataset.hpp"
#include "train/darknet_network.hpp"
#include "train/yolo_loss.hpp"

namespace sf::train {

struct FinetuneOptions {
  int iterations = 100;
  int batch_size = 8;
  double learning_rate = 1e-4;
  uint64_t seed = 0;  // batch order and dropout: the same seed, data and options give the same weights
  // Dataset label -> the network's class id; boxes of other labels are left out of the targets.
  std::map<std::string, int> classes;
};

struct FinetuneStep {
  int iteration = 0;
  float box = 0, objectness = 0, classes = 0;
  float total() const { return box + objectness + classes; }
};

// The images as the network sees them, and their targets: loaded once (a few hundred frames at 320x320
// are ~120 MB of floats). Throws naming an image that cannot be read.
struct TrainingSet {
  torch::Tensor images;                        // N x 3 x H x W, float in [0, 1]
  std::vector<std::vector<YoloTarget>> boxes;  // per image; YoloTarget::image is 0 here
};
TrainingSet make_training_set(const std::vector<DatasetImage>& images, const DarknetNetwork& network,
                              const std::map<std::string, int>& classes);

// The loss of the network on a set, in eval mode, without gradients: before and after training.
FinetuneStep evaluate_loss(DarknetNetwork& network, const TrainingSet& set);

// Trains in place; calls `progress` after each iteration. Leaves the network in eval mode.
std::vector<FinetuneStep> finetune(DarknetNetwork& network, const TrainingSet& set,
                                   const FinetuneOptions& options,
                                   const std::function<void(const FinetuneStep&)>& progress = {});

}  // namespace sf::train
