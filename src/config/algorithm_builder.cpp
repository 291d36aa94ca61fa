// The one place where an AlgorithmConfig becomes an Algorithm and its stages.
#include "sightflow/camera_profile.hpp"
#include "sightflow/config.hpp"

namespace sf {
namespace {

CameraProfile load_profile(const AlgorithmConfig& a) {
  CameraProfile profile;
  try {
    profile = load_camera_profile(a.profile);
  } catch (const std::runtime_error& e) {
    throw ConfigError("algorithm '" + a.name + "': " + e.what());
  }
  if (profile.model != a.detector)
    throw ConfigError("algorithm '" + a.name + "': profile " + a.profile + " was tuned for " + profile.model +
                      ", not " + a.detector);
  return profile;
}

}  // namespace

std::unique_ptr<Algorithm> build_algorithm(const AlgorithmConfig& a, ModelPool& pool) {
  if (a.detector == "none") return std::make_unique<NoopAlgorithm>();  // measures everything else
  ModelParams params = a.params;
  // The profile must see every detection it may keep.
  if (!a.profile.empty() && !params.count("score_threshold"))
    params["score_threshold"] = std::to_string(load_profile(a).lowest_threshold());
  auto model = pool.acquire(a.detector, params);
  if (a.motion.mode != MotionMode::Off)
    return std::make_unique<MotionAlgorithm>(std::move(model), a.motion, a.classes, a.min_score);
  return std::make_unique<DetectorAlgorithm>(std::move(model), a.classes, a.min_score);
}

StageList build_stages(const AlgorithmConfig& a) {
  StageList stages;
  try {
    if (!a.profile.empty()) {
      load_profile(a);  // names the model mismatch
      stages.push_back(create_stage({"profile", {{"file", a.profile}}}));
    }
    for (const auto& spec : a.stages) stages.push_back(create_stage(spec));
  } catch (const std::invalid_argument& e) {
    throw ConfigError("algorithm '" + a.name + "': " + e.what());
  }
  return stages;
}

std::vector<StageSpec> analysis_stages(const nlohmann::json* track, const nlohmann::json& lines,
                                       const nlohmann::json& zones, std::vector<StageSpec> extra) {
  std::vector<StageSpec> specs;
  bool counting = !lines.empty() || !zones.empty();
  bool tracked =
      std::any_of(extra.begin(), extra.end(), [](const StageSpec& s) { return s.type == "track"; });
  if (track || (counting && !tracked)) specs.push_back({"track", track ? *track : nlohmann::json::object()});
  if (!lines.empty()) specs.push_back({"lines", {{"lines", lines}}});
  if (!zones.empty()) specs.push_back({"zones", {{"zones", zones}}});
  specs.insert(specs.end(), std::make_move_iterator(extra.begin()), std::make_move_iterator(extra.end()));
  return specs;
}

}  // namespace sf
