#include "cli/run_outcome.hpp"

namespace sf::cli {

std::string every_run_failed(const Metrics& metrics) {
  int64_t done = 0, failed = 0;
  std::string which;
  for (const auto& [key, a] : metrics.algorithms(steady_now())) {
    done += a.runs;
    failed += a.runs_failed;
    if (a.runs_failed > 0) which += (which.empty() ? "" : ", ") + key.second + " on " + key.first;
  }
  if (done > 0 || failed == 0) return "";
  return "every run failed (" + std::to_string(failed) + " run(s) of " + which +
         ", no result written; the first errors are logged above)";
}

}  // namespace sf::cli
