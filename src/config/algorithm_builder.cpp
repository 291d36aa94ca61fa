// The one place where an AlgorithmConfig becomes an Algorithm and its stages.
#include <algorithm>
#include <cmath>
#include <optional>

#include "sightflow/camera_profile.hpp"
#include "sightflow/config.hpp"
#include "sightflow/model_catalog.hpp"
#include "sightflow/model_entry_file.hpp"
#include "track/byte_tracker.hpp"

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

// The detector's catalog entry; none for a built-in model. A catalog that cannot be read gives none
// here: loading the model reports it, naming the file and line.
std::optional<CatalogEntry> catalog_entry(const std::string& detector) {
  try {
    if (is_model_entry_file(detector)) return load_model_entry_file(detector);
    auto catalog = ModelCatalog::load(model_locations().catalog);
    if (const auto* entry = catalog.find(detector)) return *entry;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

std::vector<StageSpec> effective_stages(const AlgorithmConfig& a) {
  std::vector<StageSpec> stages = a.stages;
  auto is_track = [](const StageSpec& s) { return s.type == "track"; };
  if (std::none_of(stages.begin(), stages.end(), is_track)) return stages;
  auto entry = catalog_entry(a.detector);
  if (!entry || entry->tracker.empty()) return stages;
  for (auto& spec : stages) {
    if (!is_track(spec) || !spec.options.is_object()) continue;
    nlohmann::json merged = nlohmann::json::object();
    for (const auto& [name, value] : entry->tracker) {
      if (value == std::floor(value))
        merged[name] = int64_t(value);  // min_hits is an integer
      else
        merged[name] = value;
    }
    merged.update(spec.options);
    spec.options = std::move(merged);
  }
  return stages;
}

namespace {

// ByteTrack keeps tracks alive through occlusion with the low-score boxes: a tracked catalog model
// reports boxes down to the tracker's `low` (the track stage drops what it does not track).
std::optional<float> tracker_low(const AlgorithmConfig& a) {
  for (const auto& spec : effective_stages(a)) {
    if (spec.type != "track") continue;
    auto low = spec.options.is_object() ? spec.options.find("low") : spec.options.end();
    if (low != spec.options.end() && low->is_number()) return low->get<float>();
    return ByteTrackerOptions{}.low;
  }
  return std::nullopt;
}

}  // namespace

ModelParams effective_params(const AlgorithmConfig& a) {
  ModelParams params = a.params;
  if (!params.count("score_threshold")) {
    std::optional<float> lowest;
    // The profile must see every detection it may keep, and the tracker its low-score boxes. Only catalog
    // models take a score_threshold; a built-in detector's profile filters what the detector reports.
    if (!a.profile.empty() && catalog_entry(a.detector)) lowest = load_profile(a).lowest_threshold();
    if (auto low = tracker_low(a)) {
      if (auto entry = catalog_entry(a.detector); entry && *low < entry->score_threshold)
        lowest = std::min(lowest.value_or(*low), *low);
    }
    if (lowest) params["score_threshold"] = std::to_string(*lowest);
  }
  return params;
}

std::unique_ptr<Algorithm> build_algorithm(const AlgorithmConfig& a, ModelPool& pool) {
  if (a.detector == "none") return std::make_unique<NoopAlgorithm>();  // measures everything else
  ModelParams params = effective_params(a);
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
    for (const auto& spec : effective_stages(a)) stages.push_back(create_stage(spec));
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
