#include "store/store_commit_stats.hpp"

#include <cstdio>

namespace sf {

void StoreCommitStats::add(size_t results, double seconds) {
  std::lock_guard lock(mutex_);
  results_stored_ += int64_t(results);
  commit_.add(seconds);
}

void StoreCommitStats::report(CounterReport& out) const {
  int64_t stored = 0;
  StageStat commit;
  {
    std::lock_guard lock(mutex_);
    stored = results_stored_;
    commit = commit_;
  }
  if (commit.count() == 0) return;
  out.counter({"store", "results_stored", "sightflow_results_stored_total",
               "Results committed to the results store."},
              double(stored));
  out.histogram({"store", "commit", "sightflow_store_commit_seconds", "Time of one store transaction."},
                commit);
  char line[160];
  std::snprintf(line, sizeof line, "store: %lld results stored in %lld transactions, %.2f ms each",
                static_cast<long long>(stored), static_cast<long long>(commit.count()), commit.mean() * 1e3);
  out.summary(line);
}

}  // namespace sf
