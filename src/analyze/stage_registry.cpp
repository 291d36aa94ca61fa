#include <map>
#include <mutex>

#include "count/line_stage.hpp"
#include "count/zone_stage.hpp"
#include "sightflow/camera_profile.hpp"
#include "sightflow/stage.hpp"
#include "track/track_stage.hpp"

namespace sf {
namespace {

// The built-in stages: one line each.
std::map<std::string, StageFactory> built_in_stages() {
  return {
      {"lines", make_line_stage},
      {"profile", make_profile_stage},
      {"zones", make_zone_stage},
      {"track", make_track_stage},
  };
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, StageFactory> factories = built_in_stages();
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void run_stages(StageList& stages, Result& result, const Frame& frame) {
  for (auto& stage : stages) stage->process(result, frame);
}

void register_stage(const std::string& type, StageFactory factory) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[type] = std::move(factory);
}

std::vector<std::string> stage_types() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> types;
  for (const auto& [type, factory] : r.factories) types.push_back(type);
  return types;
}

std::unique_ptr<Stage> create_stage(const StageSpec& spec) {
  StageFactory factory;
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(spec.type);
    if (it == r.factories.end()) {
      std::string known;
      for (const auto& [type, f] : r.factories) known += (known.empty() ? "" : ", ") + type;
      throw std::invalid_argument("unknown stage '" + spec.type +
                                  "' (known: " + (known.empty() ? "none" : known) + ")");
    }
    factory = it->second;
  }
  if (!spec.options.is_object())
    throw std::invalid_argument("stage '" + spec.type + "': options must be an object");
  try {
    return factory(spec.options);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("stage '" + spec.type + "': " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("stage '" + spec.type + "': " + e.what());
  }
}

StageSpec parse_stage_flag(const std::string& text) {
  StageSpec spec;
  auto colon = text.find(':');
  spec.type = text.substr(0, colon);
  if (spec.type.empty()) throw std::invalid_argument("--stage needs a type: TYPE or TYPE:{json options}");
  if (colon != std::string::npos) {
    try {
      spec.options = nlohmann::json::parse(text.substr(colon + 1));
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument("--stage " + spec.type + ": options are not JSON: " + e.what());
    }
    if (!spec.options.is_object())
      throw std::invalid_argument("--stage " + spec.type + ": options must be a JSON object");
  }
  return spec;
}

}  // namespace sf
