// `sightflow tune`: a camera profile for an edge model from a captured dataset (src/tune/).
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/finetune.hpp"
#include "sightflow/model_catalog.hpp"
#include "sightflow/model_entry_file.hpp"
#include "tune/profile_tuning.hpp"

namespace sf::cli {
namespace {

struct TuneFlags {
  std::string dataset, model, out;
  std::vector<std::string> params, classes;
  TuneOptions options;
  bool json = false;
  bool finetune = false;
  FinetuneSettings training;
};

int tune(TuneFlags& f) {
  if (f.finetune) {
    f.training.dataset = f.dataset, f.training.model = f.model, f.training.out = f.out;
    f.training.params = f.params, f.training.classes = f.classes, f.training.json = f.json;
    return finetune(f.training);
  }
  auto dataset = load_dataset(f.dataset);
  ModelParams params = parse_params(f.params);
  // The "before" is the model as it ships: its catalog threshold unless the parameters set one.
  if (auto it = params.find("score_threshold"); it != params.end()) {
    f.options.baseline = std::stof(it->second);
  } else if (is_model_entry_file(f.model)) {
    f.options.baseline = load_model_entry_file(f.model).score_threshold;
  } else {
    // Kept in a variable: the entry points into the catalog (a temporary here was read after its end).
    auto catalog = ModelCatalog::load(model_locations().catalog);
    if (const auto* entry = catalog.find(f.model)) f.options.baseline = entry->score_threshold;
  }
  f.options.classes = {f.classes.begin(), f.classes.end()};
  ModelParams low = params;
  low["score_threshold"] = std::to_string(f.options.floor);
  auto model = create_model(f.model, low);
  auto r = tune_profile(dataset, *model, f.model, params, f.options);
  save_camera_profile(r.profile, f.out);
  std::printf("%s on %s: %zu tuning images, %zu held out\n", f.model.c_str(), f.dataset.c_str(),
              r.tuning_images, r.heldout_images);
  for (const auto& [label, t] : r.profile.thresholds) std::printf("  %s: threshold %.2f\n", label.c_str(), t);
  std::printf("  static regions: %zu\n", r.profile.static_regions.size());
  std::printf("held-out F1 against the reference: before %.3f (P %.3f R %.3f), after %.3f (P %.3f R %.3f)\n",
              r.before.f1(), r.before.precision(), r.before.recall(), r.after.f1(), r.after.precision(),
              r.after.recall());
  std::printf("profile -> %s\n", f.out.c_str());
  if (f.json) std::cout << r.profile.report.dump() << std::endl;
  return 0;
}

}  // namespace

Command add_tune_command(CLI::App& app) {
  auto flags = std::make_shared<TuneFlags>();
  auto& f = *flags;
  auto* cmd = app.add_subcommand("tune", "Tune an edge model's camera profile on a captured dataset");
  cmd->add_option("--dataset", f.dataset, "folder from `sightflow dataset capture`")->required();
  cmd->add_option("--detector,--model", f.model, "edge model to tune (e.g. yolo-fastest-body)")->required();
  cmd->add_option("--param", f.params, "edge model parameter NAME=VALUE (repeatable)");
  cmd->add_option("--out", f.out,
                  "profile file to write (JSON; run --profile reads it); with --finetune, the folder for the "
                  "tuned model")
      ->required();
  cmd->add_option("--classes", f.classes, "classes to tune (default: those the reference annotated)");
  cmd->add_option("--holdout", f.options.holdout, "last fraction of the images kept out of tuning")
      ->capture_default_str();
  cmd->add_option("--iou", f.options.iou, "IoU for a match with a reference box")->capture_default_str();
  cmd->add_option("--static-share", f.options.static_share,
                  "share of tuning images an unconfirmed box must recur in to be masked")
      ->capture_default_str();
  cmd->add_flag("--json", f.json, "end with the profile's report (--finetune: the record) as one JSON line");
  // Fine-tuning (docs/TUNE.md); --threads (a global option) sets the training threads too.
  auto& t = f.training;
  const std::string group = "Fine-tuning (--finetune)";
  cmd->add_flag("--finetune", f.finetune, "train the model's weights on the dataset (darknet models)")
      ->group(group);
  cmd->add_option("--epochs", t.epochs, "most passes over the training images")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--max-minutes", t.max_minutes,
                  "time budget (0: none); stops after the step that spends it")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--seed", t.seed, "seeds the held-out choice, batch order and augmentation")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--freeze", t.freeze, "first N layers keep their weights")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--val-fraction", t.val_fraction, "share of the images held out for validation (by seed)")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--patience", t.patience, "stop after this many epochs without a better held-out loss")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--batch", t.batch, "images per step")
      ->check(CLI::Range(1, 256))
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--learning-rate", t.learning_rate, "Adam's step size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(group);
  cmd->add_flag("--no-augment", t.no_augment, "train without flips, scale and colour jitter")->group(group);
  cmd->add_flag("--resume", t.resume, "go on from the checkpoint in the --out folder")->group(group);
  return [flags] { return tune(*flags); };
}

}  // namespace sf::cli
