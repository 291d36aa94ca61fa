#pragma once
// The consumer side of the bus (`sightflow worker`): one member of a consumer group on sf:frames:NAME.
//
// Loop: first its own pending entries (after a start or a reconnect: delivered before, never
// acknowledged), then every claim interval the group's entries idle longer than claim_idle_s (their
// consumer died: XAUTOCLAIM), otherwise new entries (XREADGROUP >). Each batch is processed, its results
// stored, published, and only then acknowledged: delivery is at-least-once, and the store's idempotent
// writes make the results exactly-once.
#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bus/frame_processor.hpp"
#include "bus/redis_connection.hpp"

namespace sf {

struct WorkerOptions {
  std::string group = "workers";
  std::string consumer;         // unique within the group (default: host-pid)
  int batch = 4;                // entries per read
  double block_s = 1.0;         // how long one read waits for new entries
  double claim_idle_s = 30;     // pending entries idle this long are taken over from their consumer
  double claim_interval_s = 5;  // how often to look for them
  double idle_exit_s = 0;       // >0: exit once nothing arrived this long and the group has nothing left
  int64_t max_frames = -1;      // exit after handling this many entries (-1: no limit)
};

struct WorkerCounters {
  std::atomic<int64_t> claimed{0};  // entries taken over from other consumers
  std::atomic<int64_t> acked{0};
};

class FrameWorker {
 public:
  FrameWorker(RedisConnection& redis, FrameProcessor& processor, WorkerOptions options);
  // Runs until `stop` is set, idle_exit_s or max_frames says so. Throws on algorithm, store or Redis errors
  // (the unacknowledged batch is left pending for another worker).
  void run(const std::atomic<bool>& stop);
  // processed, claimed, dead-lettered, ... as JSON, safe from another thread.
  nlohmann::json stats_json() const;

 private:
  std::vector<StreamEntry> read_own_pending();
  std::vector<StreamEntry> claim_idle();
  std::vector<StreamEntry> read_new();
  bool group_drained();
  void handle(const std::vector<StreamEntry>& entries);

  RedisConnection& redis_;
  FrameProcessor& processor_;
  WorkerOptions options_;
  std::string key_;
  bool pending_first_ = true;
  std::string claim_cursor_ = "0-0";
  double next_claim_ = 0;
  WorkerCounters counters_;
  int64_t handled_ = 0;
};

// The default consumer name: hostname-pid, distinct for every worker process.
std::string default_consumer_name();

}  // namespace sf
