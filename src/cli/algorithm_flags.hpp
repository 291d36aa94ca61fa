#pragma once
// The flags that choose one algorithm (--detector, --param, --classes, --min-score, --algo-name), shared by
// the commands that run a single algorithm outside a pipeline (worker, replay).
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "sightflow/algorithm.hpp"

namespace sf::cli {

struct AlgorithmFlags {
  std::string detector = "hog";
  std::vector<std::string> params, classes;
  float min_score = 0;
  std::string algo_name;  // default: the detector's name

  void add_to(CLI::App& cmd);
  std::string name() const { return algo_name.empty() ? detector : algo_name; }
  // Builds it ("none": NoopAlgorithm); a bad name or parameter throws before anything runs.
  std::unique_ptr<Algorithm> create() const;
};

}  // namespace sf::cli
