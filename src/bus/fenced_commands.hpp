#pragma once
// What the owner of a stream sends to Redis when its stages need order: every read and every commit is a
// Lua script that first checks that the lease still names this owner (and renews it). So a worker that
// lost its lease (paused past its ttl while another took over) can neither take another entry of the
// stream nor publish anything: entries only ever reach the lease's holder, and a new owner that claimed
// the group's pending entries has all of its predecessor's.
#include <cstdint>
#include <string>
#include <vector>

#include "bus/frame_processor.hpp"
#include "bus/stream_entry.hpp"
#include "bus/stream_lease.hpp"

namespace sf {

// XREADGROUP GROUP group consumer COUNT count STREAMS key from (">": new entries, "0": its own pending),
// without BLOCK (scripts cannot block: wait with XREAD first). Throws LeaseLost.
std::vector<StreamEntry> fenced_read(RedisConnection& redis, const StreamLease& lease, const std::string& key,
                                     const std::string& group, int count, const std::string& from);

// Runs a batch's commands (results, stage log, dead letters, XACK) all together or not at all. Returns false
// when the stage log already holds `first_logged_frame` (or a later frame): the batch was committed before
// and its reply lost with the connection (RedisConnection sends a command again after a reconnect), so
// nothing is done twice. Throws LeaseLost when another owner holds the lease.
bool fenced_commit(RedisConnection& redis, const StreamLease& lease, const std::string& stage_log,
                   int64_t first_logged_frame, const std::vector<OwnedCommand>& commands);

}  // namespace sf
