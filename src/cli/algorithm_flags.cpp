#include "cli/algorithm_flags.hpp"

#include "cli/commands.hpp"

namespace sf::cli {

void AlgorithmFlags::add_to(CLI::App& cmd) {
  cmd.add_option(
         "--detector", detector,
         "built-in (hog, haar-face, ...), catalog model (yolox-nano, ...) or none: see sightflow models")
      ->capture_default_str();
  cmd.add_option("--param", params, "detector parameter NAME=VALUE (repeatable)");
  cmd.add_option("--classes", classes, "keep only these labels");
  cmd.add_option("--min-score", min_score, "drop detections scoring lower");
  cmd.add_option("--algo-name", algo_name, "algorithm name the results carry (default: the detector's)");
}

std::unique_ptr<Algorithm> AlgorithmFlags::create() const {
  if (detector == "none") return std::make_unique<NoopAlgorithm>();
  return std::make_unique<DetectorAlgorithm>(
      detector, parse_params(params), std::set<std::string>(classes.begin(), classes.end()), min_score);
}

}  // namespace sf::cli
