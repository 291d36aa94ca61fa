#pragma once
// A camera profile (`sightflow tune`, `sightflow run --profile FILE`): what one edge model should keep on
// one camera: per-class score thresholds, and regions where it reports objects that never move and the
// reference model never confirms (a poster, a railing). Plain data; thread-safe to share read-only.
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core/types.hpp>
#include <string>
#include <vector>

#include "sightflow/algorithm.hpp"
#include "sightflow/stage.hpp"

namespace sf {

struct CameraProfile {
  std::string model;                        // the edge model it was tuned for
  ModelParams params;                       // its parameters when tuned (input size matters)
  std::map<std::string, float> thresholds;  // per class; classes not listed keep default_threshold
  float default_threshold = 0.f;
  std::vector<cv::Rect2f> static_regions;            // frame pixels
  float static_iou = 0.5f;                           // a detection this close to a static region is dropped
  nlohmann::json report = nlohmann::json::object();  // how it was made: F1 before/after, images

  // The lowest threshold it keeps: the model must report at least down to here.
  float lowest_threshold() const;
  // Keeps the detections that pass their class threshold and lie on no static region.
  std::vector<Detection> apply(std::vector<Detection> detections) const;
};

nlohmann::json to_json(const CameraProfile& profile);
// JSON or YAML (JSON is read as YAML). Throws std::runtime_error naming the file and field.
CameraProfile load_camera_profile(const std::string& path);
void save_camera_profile(const CameraProfile& profile, const std::string& path);

// The `profile` stage ({"file": PATH}): drops the detections the profile does not keep (run --profile).
// Put it first, so that later stages see only what is kept; the algorithm's model must report scores down
// to lowest_threshold() (the algorithm builder lowers score_threshold accordingly).
std::unique_ptr<Stage> make_profile_stage(const nlohmann::json& options);

}  // namespace sf
