#pragma once
// Builds a CameraProfile for an edge model from a dataset the reference model annotated: per-class
// thresholds that maximise F1 against the reference, and static false-positive regions, learnt on the
// first part of the dataset (in frame order) and scored on the held-out rest.
#include <set>
#include <string>

#include "dataset/dataset.hpp"
#include "sightflow/camera_profile.hpp"
#include "sightflow/model.hpp"

namespace sf {

struct TuneOptions {
  double holdout = 0.3;           // last fraction of the images (in frame order), never used for tuning
  double iou = 0.5;               // a match with a reference box
  float floor = 0.05f;            // lowest threshold tried (the model is asked for scores down to here)
  float baseline = 0.4f;          // the model's usual threshold: the "before" of the report
  double static_share = 0.25;     // a box seen unconfirmed in at least this share of tuning images is static
  std::set<std::string> classes;  // classes tuned (empty: those the reference annotated)
};

struct F1Score {
  int64_t tp = 0, fp = 0, fn = 0;
  double precision() const { return tp + fp > 0 ? double(tp) / double(tp + fp) : 0; }
  double recall() const { return tp + fn > 0 ? double(tp) / double(tp + fn) : 0; }
  double f1() const { return tp > 0 ? 2.0 * double(tp) / double(2 * tp + fp + fn) : 0; }
};

struct TuneResult {
  CameraProfile profile;
  F1Score before, after;  // on the held-out images
  size_t tuning_images = 0, heldout_images = 0;
};

// Runs `model` (which must report scores down to options.floor) on every dataset image, then tunes.
// Throws std::invalid_argument when the dataset is too small to split.
TuneResult tune_profile(const Dataset& dataset, Model& model, const std::string& model_name,
                        const ModelParams& params, const TuneOptions& options);

}  // namespace sf
