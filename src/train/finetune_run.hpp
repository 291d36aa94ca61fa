#pragma once
// The training run behind `sightflow tune --finetune` (inside libsightflow_finetune.so): a dataset's
// frames split by seed into training and held-out parts, epochs of augmented batches with the first layers
// optionally frozen, the held-out loss after each epoch, early stopping and a time budget, a checkpoint
// after each epoch that --resume continues from, and the best epoch's weights written in darknet format.
//
//   OUT/NAME.cfg, OUT/NAME.weights  the tuned model (the catalog's cfg, the best epoch's weights)
//   OUT/finetune.json               the record: data, settings, per-epoch losses, why it stopped
//   OUT/checkpoint/                 last.weights, best.weights, optimizer.pt, state.json
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataset/dataset.hpp"
#include "train/augmentation.hpp"
#include "train/finetune_module.hpp"

namespace sf::train {

struct FinetuneRequest {
  std::filesystem::path cfg, weights;  // the model to start from
  std::filesystem::path out_dir;
  std::string name;                    // of the tuned files: NAME.cfg, NAME.weights
  std::map<std::string, int> classes;  // dataset label -> network class
  std::vector<DatasetImage> images;    // boxes in image pixels
  int epochs = 30;
  int batch_size = 8;
  double learning_rate = 5e-4;
  uint64_t seed = 0;
  int threads = 1;
  int freeze = 0;             // first layers kept as loaded
  double val_fraction = 0.2;  // of the images, held out (chosen by seed)
  int patience = 5;           // epochs without a better held-out loss before stopping
  double max_minutes = 0;     // time budget of this run; 0: none
  AugmentOptions augment;
  bool resume = false;                                   // go on from OUT/checkpoint
  nlohmann::json provenance = nlohmann::json::object();  // what the caller wants recorded (dataset, model)
};

// Reads the JSON a caller of the module sends; throws std::invalid_argument naming the field.
FinetuneRequest parse_finetune_request(const nlohmann::json& request);
nlohmann::json to_json(const FinetuneRequest& request);  // the inverse, for callers and tests

// Trains and writes the files above; returns the record. Throws std::runtime_error (unreadable files, a
// checkpoint that does not fit the request) or std::invalid_argument (options out of range).
nlohmann::json run_finetune(const FinetuneRequest& request,
                            const std::function<void(const SfFinetuneProgress&)>& progress = {});

}  // namespace sf::train
