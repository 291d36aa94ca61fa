#pragma once
// The flags that describe one algorithm, declared once for every command that runs one (run, worker,
// replay, eval, bench, dataset capture): the model (--detector, --param, --classes, --min-score, --motion,
// --motion-param, --profile), its name (--algo-name) and the analysis after it (--track, --track-param,
// --line, --zone, --stage). They become an AlgorithmConfig, built by the same builder as YAML and the
// HTTP API.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "sightflow/config.hpp"

namespace sf::cli {

struct AlgorithmFlags {
  std::string detector = "hog";
  std::vector<std::string> params, classes;
  float min_score = 0;
  std::string motion;  // empty: as configured (off with flags)
  std::vector<std::string> motion_params;
  std::string profile;    // camera profile from `sightflow tune`
  std::string algo_name;  // default: the detector's name
  bool track = false;
  std::vector<std::string> track_params, lines, zones, stages;

  // Every flag: the model's, --algo-name and the analysis flags.
  void add_to(CLI::App& cmd);
  // Only the model's (commands that run no stages: bench, dataset capture). `detector_help` says what
  // the detector is for in this command; `detector_names` may add an older alias ("--detector,--model").
  CLI::Option* add_model_to(CLI::App& cmd, const std::string& detector_help = "",
                            const std::string& detector_names = "--detector");
  // The model flags that describe one algorithm and so cannot be combined with `run --config` (--motion,
  // --motion-param and --profile can: they override every algorithm of the file).
  static std::vector<std::string> model_flag_names();
  // The overriding flags (--motion, --motion-param, --profile) applied to an algorithm from a file.
  void apply_overrides(AlgorithmConfig& algorithm) const;
  // Only the analysis flags (for `run --config`, where they add to every algorithm of the file).
  void add_analysis_to(CLI::App& cmd);
  std::string name() const { return algo_name.empty() ? detector : algo_name; }
  // What the flags describe; bad values throw std::invalid_argument naming the flag.
  AlgorithmConfig config() const;
  // The stages the analysis flags ask for (track, lines, zones, then --stage in order).
  std::vector<StageSpec> stage_specs() const;
  // Builds the algorithm ("none": NoopAlgorithm) and its stages; a bad name, parameter or stage option
  // throws before anything runs.
  std::unique_ptr<Algorithm> create() const;
  StageList create_stages() const;
};

// NAME=VALUE flags as stage options: integers, then numbers, then true/false, else strings.
nlohmann::json option_flags(const std::vector<std::string>& flags, const std::string& flag);

// "NAME=x1,y1,x2,y2[,...]" -> {"name": NAME, "points": [x1, y1, ...]} (--line, --zone).
nlohmann::json parse_named_points(const std::string& flag, const std::string& text);

}  // namespace sf::cli
