#include "cli/algorithm_flags.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "cli/commands.hpp"

namespace sf::cli {
nlohmann::json option_flags(const std::vector<std::string>& flags, const std::string& flag) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& p : flags) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument(flag + " expects NAME=VALUE, got '" + p + "'");
    std::string name = p.substr(0, eq), value = p.substr(eq + 1);
    const char* begin = value.data();
    const char* end = begin + value.size();
    int64_t integer = 0;
    if (auto [ptr, ec] = std::from_chars(begin, end, integer);
        ec == std::errc() && ptr == end && !value.empty()) {
      options[name] = integer;
      continue;
    }
    char* stop = nullptr;
    double number = value.empty() ? 0 : std::strtod(value.c_str(), &stop);
    if (!value.empty() && stop == value.c_str() + value.size() && std::isfinite(number))
      options[name] = number;
    else if (value == "true" || value == "false")
      options[name] = value == "true";
    else
      options[name] = value;
  }
  return options;
}

CLI::Option* AlgorithmFlags::add_model_to(CLI::App& cmd, const std::string& detector_help,
                                          const std::string& detector_names) {
  auto* option =
      cmd.add_option(detector_names, detector,
                     detector_help.empty()
                         ? "built-in (hog, haar-face, ...), catalog model (yolox-nano, ...) or none: see "
                           "sightflow models"
                         : detector_help)
          ->capture_default_str();
  cmd.add_option("--param", params, "detector parameter NAME=VALUE (repeatable), e.g. input=416");
  cmd.add_option("--classes", classes, "keep only these labels");
  cmd.add_option("--min-score", min_score, "drop detections scoring lower");
  cmd.add_option("--motion", motion,
                 "off, skip (infer only when something moves) or roi (infer on crops around motion) "
                 "(docs/MOTION.md)")
      ->check(CLI::IsMember({"off", "skip", "roi"}));
  cmd.add_option("--motion-param", motion_params,
                 "motion option NAME=VALUE (repeatable), e.g. min_crop=160 (docs/MOTION.md)");
  cmd.add_option("--profile", profile, "camera profile from `sightflow tune` (thresholds, static regions)");
  return option;
}

void AlgorithmFlags::add_to(CLI::App& cmd) {
  add_model_to(cmd);
  cmd.add_option("--algo-name", algo_name, "algorithm name the results carry (default: the detector's)");
  add_analysis_to(cmd);
}

std::vector<std::string> AlgorithmFlags::model_flag_names() {
  return {"--detector", "--param", "--classes", "--min-score"};
}

void AlgorithmFlags::apply_overrides(AlgorithmConfig& a) const {
  if (!motion.empty()) a.motion.mode = parse_motion_mode(motion);
  for (const auto& [name, value] : parse_params(motion_params)) set_motion_option(a.motion, name, value);
  validate(a.motion);
  if (!profile.empty()) a.profile = profile;
}

void AlgorithmFlags::add_analysis_to(CLI::App& cmd) {
  cmd.add_flag("--track", track, "track objects: each detection gets a track_id (README: Tracking)");
  cmd.add_option("--track-param", track_params, "tracker option NAME=VALUE (repeatable), e.g. max_gap=2");
  cmd.add_option("--line", lines, "count crossings of line NAME=x1,y1,x2,y2 (repeatable; tracks)");
  cmd.add_option("--zone", zones, "watch polygon NAME=x1,y1,x2,y2,x3,y3[,...] (repeatable; tracks)");
  cmd.add_option("--stage", stages, "add a registered stage TYPE or TYPE:{json options} (repeatable)");
}

nlohmann::json parse_named_points(const std::string& flag, const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument(flag + " expects NAME=x1,y1,x2,y2..., got '" + text + "'");
  nlohmann::json points = nlohmann::json::array();
  std::stringstream list(text.substr(eq + 1));
  for (std::string item; std::getline(list, item, ',');) {
    try {
      size_t used = 0;
      points.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw std::invalid_argument(flag + " " + text.substr(0, eq) + ": '" + item + "' is not a number");
    }
  }
  return {{"name", text.substr(0, eq)}, {"points", points}};
}

std::vector<StageSpec> AlgorithmFlags::stage_specs() const {
  std::optional<nlohmann::json> track_options;
  if (track || !track_params.empty()) {
    track_options = option_flags(track_params, "--track-param");
  }
  nlohmann::json line_list = nlohmann::json::array(), zone_list = nlohmann::json::array();
  for (const auto& l : lines) line_list.push_back(parse_named_points("--line", l));
  for (const auto& z : zones) zone_list.push_back(parse_named_points("--zone", z));
  std::vector<StageSpec> extra;
  for (const auto& s : stages) extra.push_back(parse_stage_flag(s));
  return analysis_stages(track_options ? &*track_options : nullptr, line_list, zone_list, std::move(extra));
}

AlgorithmConfig AlgorithmFlags::config() const {
  AlgorithmConfig a;
  a.detector = detector;
  a.name = name();
  a.params = parse_params(params);
  a.classes = {classes.begin(), classes.end()};
  a.min_score = min_score;
  apply_overrides(a);
  a.stages = stage_specs();
  return a;
}

std::unique_ptr<Algorithm> AlgorithmFlags::create() const {
  ModelPool pool;  // one algorithm: its model is shared with nobody
  return build_algorithm(config(), pool);
}

StageList AlgorithmFlags::create_stages() const { return build_stages(config()); }

}  // namespace sf::cli
