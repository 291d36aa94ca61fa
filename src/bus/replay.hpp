#pragma once
// `sightflow replay`: the frames still retained in sf:frames:NAME, between two IDs or times, run again
// (typically with another model) into results under a new algorithm name. It reads with XRANGE, outside
// any consumer group, so the live workers and their results are left as they are.
#include <atomic>
#include <cstdint>
#include <string>

#include "bus/frame_processor.hpp"
#include "bus/redis_connection.hpp"

namespace sf {

// A bound of a replay range as XRANGE takes it: "-" / "+", a stream ID ("1700000000000-0" or the
// milliseconds alone), or a UTC time "2026-12-01T23:00:00[.250][Z]" (turned into the ID of that ms).
// Throws std::invalid_argument for anything else.
std::string parse_replay_bound(const std::string& text, bool is_end);

struct ReplayOptions {
  std::string from = "-", to = "+";
  int batch = 16;  // entries per XRANGE
};

// Returns the number of entries handled (processed, dead-lettered or skipped).
int64_t replay_stream(RedisConnection& redis, FrameProcessor& processor, const ReplayOptions& options,
                      const std::atomic<bool>& stop);

}  // namespace sf
