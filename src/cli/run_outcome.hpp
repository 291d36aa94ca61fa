#pragma once
// What a finished pipeline's counters say about how the command should exit (README, "Exit status").
#include <string>

#include "sightflow/metrics.hpp"

namespace sf::cli {

// The job ran, runs were attempted, and not one gave a result: every run threw (a model that cannot run,
// a catalog entry that does not match its network). Exit 0 would pass for success in scripts and CI.
constexpr int kExitEveryRunFailed = 4;

// "" when some run succeeded or none was attempted; else the error sentence, naming the failed runs.
std::string every_run_failed(const Metrics& metrics);

}  // namespace sf::cli
