#pragma once
// What the store's writer counts (results committed, time per transaction), reported as the `store`
// part: sightflow_results_stored_total, sightflow_store_commit_seconds, {"store": {"results_stored",
// "commit"}} and a summary line. Shared by the store sink and the bus worker. Thread-safe.
#include <cstddef>
#include <mutex>

#include "sightflow/metrics.hpp"

namespace sf {

class StoreCommitStats : public CounterSource {
 public:
  void add(size_t results, double seconds);
  void report(CounterReport& out) const override;  // nothing until the first commit

 private:
  mutable std::mutex mutex_;
  int64_t results_stored_ = 0;
  StageStat commit_;
};

}  // namespace sf
