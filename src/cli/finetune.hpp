#pragma once
// `sightflow tune --finetune`: trains a darknet catalog model on a captured dataset through
// libsightflow_finetune.so (loaded only here: libtorch's start-up cost stays out of every other command),
// then scores the model before and after on the held-out frames with OpenCV DNN, and writes a model entry
// file that `--detector PATH` runs (docs/TUNE.md).
#include <string>
#include <vector>

namespace sf::cli {

struct FinetuneSettings {
  std::string dataset, model, out;  // out: the folder for the tuned model
  std::vector<std::string> params, classes;
  int epochs = 30, batch = 8, freeze = 0, patience = 5;
  double learning_rate = 5e-4, val_fraction = 0.2, max_minutes = 0;
  uint64_t seed = 0;
  bool no_augment = false, resume = false, json = false;
};

int finetune(const FinetuneSettings& settings);

}  // namespace sf::cli
