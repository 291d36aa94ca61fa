#include "sightflow/camera_profile.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "sightflow/evaluation.hpp"

namespace sf {

float CameraProfile::lowest_threshold() const {
  float lowest = default_threshold;
  for (const auto& [label, t] : thresholds) lowest = std::min(lowest, t);
  return lowest;
}

std::vector<Detection> CameraProfile::apply(std::vector<Detection> detections) const {
  std::erase_if(detections, [&](const Detection& d) {
    auto it = thresholds.find(d.label);
    if (d.score < (it == thresholds.end() ? default_threshold : it->second)) return true;
    return std::any_of(static_regions.begin(), static_regions.end(),
                       [&](const cv::Rect2f& r) { return iou(d.box, r) >= static_iou; });
  });
  return detections;
}

nlohmann::json to_json(const CameraProfile& p) {
  nlohmann::json regions = nlohmann::json::array();
  for (const auto& r : p.static_regions) regions.push_back({r.x, r.y, r.width, r.height});
  return {{"model", p.model},           {"params", p.params},
          {"thresholds", p.thresholds}, {"default_threshold", p.default_threshold},
          {"static_regions", regions},  {"static_iou", p.static_iou},
          {"report", p.report}};
}

void save_camera_profile(const CameraProfile& profile, const std::string& path) {
  try {
    write_file_atomically(path, to_json(profile).dump(2) + "\n");  // a killed tune leaves the old profile
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("profile: ") + e.what());
  }
}

CameraProfile load_camera_profile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw std::runtime_error("cannot read profile " + path);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path + ":" + std::to_string(e.mark.line + 1) +
                             ": not valid JSON or YAML: " + e.msg);
  }
  CameraProfile p;
  std::string field = "model";
  try {
    if (!root.IsMap()) throw std::runtime_error("expected a mapping");
    p.model = root["model"].as<std::string>();
    field = "params";
    if (root["params"])
      for (const auto& kv : root["params"])
        p.params[kv.first.as<std::string>()] = kv.second.as<std::string>();
    field = "thresholds";
    if (root["thresholds"])
      for (const auto& kv : root["thresholds"])
        p.thresholds[kv.first.as<std::string>()] = kv.second.as<float>();
    field = "default_threshold";
    if (root["default_threshold"]) p.default_threshold = root["default_threshold"].as<float>();
    field = "static_iou";
    if (root["static_iou"]) p.static_iou = root["static_iou"].as<float>();
    field = "static_regions";
    if (root["static_regions"]) {
      for (const auto& r : root["static_regions"]) {
        auto v = r.as<std::vector<float>>();
        if (v.size() != 4) throw std::runtime_error("each region is [x, y, w, h]");
        p.static_regions.emplace_back(v[0], v[1], v[2], v[3]);
      }
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + field + ": " + e.what());
  }
  return p;
}

namespace {

// Drops what the profile does not keep, before any later stage (a tracker) sees it.
class ProfileStage : public Stage {
 public:
  explicit ProfileStage(CameraProfile profile) : profile_(std::move(profile)) {}
  void process(Result& result, const Frame&) override {
    result.detections = profile_.apply(std::move(result.detections));
  }

 private:
  CameraProfile profile_;
};

}  // namespace

std::unique_ptr<Stage> make_profile_stage(const nlohmann::json& options) {
  for (const auto& [key, value] : options.items())
    if (key != "file") throw std::invalid_argument("unknown option '" + key + "' (profile takes file)");
  if (!options.contains("file") || !options["file"].is_string())
    throw std::invalid_argument("option 'file' (the profile from sightflow tune) is required");
  try {
    return std::make_unique<ProfileStage>(load_camera_profile(options["file"].get<std::string>()));
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
}

}  // namespace sf
