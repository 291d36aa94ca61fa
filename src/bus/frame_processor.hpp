#pragma once
// What a worker (and a replay) does with a batch of frame messages: decode each, run the algorithm, store
// the results (idempotent by stream, algo, frame) and prepare the Redis commands that publish them
// (XADD sf:results:NAME) or dead-letter the undecodable (XADD sf:dead:NAME with the reason). The caller
// sends those commands, followed by its XACK, in one round trip.
//
// With `log_stage_inputs` (a worker whose stages need order, docs/BUS.md), each result's input to the
// stages is logged too (XADD sf:stagelog:NAME:ALGO), frames at or before the last one the stages saw are
// acknowledged without being processed again, and a new owner first replays the log to rebuild the stages.
#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bus/frame_message.hpp"
#include "bus/redis_connection.hpp"
#include "bus/stream_entry.hpp"
#include "sightflow/algorithm.hpp"
#include "sightflow/metrics.hpp"
#include "sightflow/stage.hpp"
#include "sightflow/store.hpp"
#include "store/store_commit_stats.hpp"

namespace sf {

struct ProcessorOptions {
  std::string stream;
  std::string algo;                 // algorithm name the results carry
  int64_t results_maxlen = 100000;  // approximate cap of sf:results:NAME
  double max_age_s = 0;             // frames captured longer ago than this are skipped (0: never)
  // An entry delivered more often than this without being acknowledged (it crashed or stalled every
  // worker that took it) is dead-lettered instead of being tried again (0: no limit).
  int64_t max_deliveries = 5;
  bool log_stage_inputs = false;
  int64_t stage_log_maxlen = 1000000;  // approximate cap of sf:stagelog:NAME:ALGO
  FrameDecodeOptions decode{};         // where frames sent by path may be read from, and how large
};

// Counters shared with the thread that reports them.
struct ProcessorStats {
  std::atomic<int64_t> processed{0};      // frames the algorithm ran on
  std::atomic<int64_t> stored_new{0};     // results new to the store (the rest were duplicates)
  std::atomic<int64_t> dead_lettered{0};  // messages that were not decodable frames
  std::atomic<int64_t> skipped_old{0};    // frames older than max_age_s
  std::atomic<int64_t> trimmed{0};        // pending entries trimmed from the stream before they were handled
  std::atomic<int64_t> already_done{0};   // frames the stages had seen (a dead owner's, or published twice)
  std::atomic<int64_t> replayed{0};       // logged stage inputs replayed to rebuild the stages
};

using OwnedCommand = std::vector<std::string>;

struct ProcessedBatch {
  std::vector<OwnedCommand> commands;  // to send before acknowledging
  std::vector<std::string> handled;    // entry IDs that are done (processed, dead-lettered, skipped)
  int64_t first_logged_frame = -1;     // the first frame whose stage input the commands log (-1: none)
};

class FrameProcessor {
 public:
  // `store` may be null (results go to Redis only); `metrics` may be null. `stages` follow the algorithm
  // on each frame, in the order the frames are processed.
  FrameProcessor(std::unique_ptr<Algorithm> algorithm, std::shared_ptr<Store> store, ProcessorOptions options,
                 Metrics* metrics = nullptr, StageList stages = {});
  // Algorithm and store errors are thrown (the batch stays unacknowledged for a retry); message errors
  // are dead-lettered.
  ProcessedBatch process(const std::vector<StreamEntry>& entries);
  ProcessorStats& stats() { return stats_; }
  const ProcessorOptions& options() const { return options_; }
  // Runs the stages on a logged input and drops what they produce: only their state matters.
  void replay_stage_input(const Result& input);
  // The newest frame the stages have seen (-1: none).
  int64_t last_staged_frame() const { return last_staged_frame_; }

 private:
  std::unique_ptr<Algorithm> algorithm_;
  StageList stages_;
  std::shared_ptr<Store> store_;
  ProcessorOptions options_;
  Metrics* metrics_;
  std::shared_ptr<StoreCommitStats> store_stats_ = std::make_shared<StoreCommitStats>();  // the `store` part
  ProcessorStats stats_;
  int64_t last_staged_frame_ = -1;
};

// Sends owned commands in one round trip; throws RedisError on the first error reply.
void send_commands(RedisConnection& redis, const std::vector<OwnedCommand>& commands);

}  // namespace sf
