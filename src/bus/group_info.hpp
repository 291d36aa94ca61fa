#pragma once
// What Redis knows about a stream and its consumer groups (XINFO STREAM, XINFO GROUPS, XPENDING): the
// numbers behind backpressure, trim accounting and the bus metrics.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bus/redis_connection.hpp"
#include "bus/stream_entry.hpp"

namespace sf {

struct GroupInfo {
  std::string name;
  int64_t consumers = 0;
  int64_t pending = 0;         // delivered, not yet acknowledged
  StreamId last_delivered;     // the newest entry handed to one of its consumers
  std::optional<int64_t> lag;  // entries not yet delivered (Redis 7; absent when Redis cannot tell)
  std::optional<StreamId> oldest_pending;  // with_pending only; absent when nothing is pending
  double oldest_pending_age_s = 0;         // now - the time in that ID (0 when nothing is pending)
};

// Groups of a stream key; empty when the key does not exist. With `with_pending` also asks XPENDING for
// each group's oldest pending entry (one more round trip per group that has some).
std::vector<GroupInfo> read_groups(RedisConnection& redis, const std::string& key, bool with_pending = false);

// Creates the group at `start_id` ("0": every retained entry, "$": only new ones) and the stream if
// needed; an existing group is left as it is. Returns true if it was created.
bool ensure_group(RedisConnection& redis, const std::string& key, const std::string& group,
                  const std::string& start_id);

// Per stream and group: length, pending, oldest pending age, lag; for logs, --summary-json and /metrics.
nlohmann::json stream_stats_json(RedisConnection& redis, const std::string& stream);

}  // namespace sf
