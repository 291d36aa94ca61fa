#pragma once
// How the owner of a stream commits a batch when its stages need order: the batch's commands (results,
// stage log, dead letters, XACK) run as one Lua script, so they happen all together or not at all, and
// only while the lease names this owner (a worker that lost its lease, paused past its ttl, can publish
// nothing). The script also renews the lease.
#include <cstdint>
#include <string>
#include <vector>

#include "bus/frame_processor.hpp"
#include "bus/stream_lease.hpp"

namespace sf {

// Returns false when the stage log already holds `first_logged_frame` (or a later frame): the batch was
// committed before and its reply lost with the connection (RedisConnection sends a command again after a
// reconnect), so nothing is done twice. Throws LeaseLost when another owner holds the lease.
bool fenced_commit(RedisConnection& redis, const StreamLease& lease, const std::string& stage_log,
                   int64_t first_logged_frame, const std::vector<OwnedCommand>& commands);

}  // namespace sf
