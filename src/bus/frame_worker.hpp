#pragma once
// The consumer side of the bus (`sightflow worker`): one member of a consumer group on sf:frames:NAME.
//
// Loop: first its own pending entries (after a start or a reconnect: delivered before, never
// acknowledged), then every claim interval the group's entries idle longer than claim_idle_s (their
// consumer died: XAUTOCLAIM), otherwise new entries (XREADGROUP >). Each batch is processed, its results
// stored, published, and only then acknowledged: delivery is at-least-once, and the store's idempotent
// writes make the results exactly-once.
//
// Ordered (an algorithm with stages: tracking, lines, zones): the stages need the stream's frames in order
// and one state, so one member of the group owns the stream at a time, by a lease in Redis, and the others
// wait as standbys. A new owner replays the stage log to rebuild the stages, claims every entry the group
// still has pending (the old owner's, in stream order) and goes on; each batch is committed by
// fenced_read and fenced_commit, which only work while the lease names it. docs/BUS.md says why.
#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bus/frame_processor.hpp"
#include "bus/redis_connection.hpp"
#include "bus/stream_lease.hpp"

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
  bool ordered = false;         // one owner at a time, by a lease (the processor logs its stage inputs)
  double lease_s = 10;          // an owner that stops renewing loses the stream this long after
};

struct WorkerCounters {
  std::atomic<int64_t> claimed{0};  // entries taken over from other consumers
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> became_owner{0};  // ordered: times this worker took the stream's lease
  // Times a read found the group gone (NOGROUP: Redis restarted without persistence) and made it again.
  std::atomic<int64_t> groups_recreated{0};
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
  std::vector<StreamEntry> read_as_owner();
  void fill_deliveries(std::vector<StreamEntry>& entries);
  bool group_drained();
  void handle(const std::vector<StreamEntry>& entries);
  // Ordered: takes the lease if free, rebuilds the stages and claims the group's pending entries.
  bool try_become_owner();
  void rebuild_stages();
  void claim_all_pending();
  void wait_as_standby(const std::atomic<bool>& stop);
  void give_up_lease();
  void recreate_group(const RedisNoGroup& error);
  void loop(const std::atomic<bool>& stop);

  RedisConnection& redis_;
  FrameProcessor& processor_;
  WorkerOptions options_;
  std::string key_;
  bool pending_first_ = true;
  std::string claim_cursor_ = "0-0";
  double next_claim_ = 0;
  WorkerCounters counters_;
  int64_t handled_ = 0;
  std::unique_ptr<StreamLease> lease_;  // ordered only
  std::atomic<bool> owner_{false};
  std::string last_delivered_ = "0-0";  // ordered: the group's newest delivered entry
};

// The default consumer name: hostname-pid, distinct for every worker process.
std::string default_consumer_name();

}  // namespace sf
