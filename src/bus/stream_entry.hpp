#pragma once
// Redis Streams entries and IDs as sightflow reads them from XRANGE, XREADGROUP and XAUTOCLAIM replies.
#include <hiredis/hiredis.h>

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sf {

// "<ms>-<seq>": the milliseconds since the epoch when the entry was added, and a counter within that ms.
struct StreamId {
  uint64_t ms = 0, seq = 0;
  static StreamId parse(const std::string& text);  // throws std::invalid_argument
  std::string to_string() const { return std::to_string(ms) + "-" + std::to_string(seq); }
  auto operator<=>(const StreamId&) const = default;
};

struct StreamEntry {
  std::string id;
  bool deleted = false;    // a pending entry trimmed from the stream before it was acknowledged
  int64_t deliveries = 0;  // times delivered so far, when known (entries claimed from other consumers)
  std::vector<std::pair<std::string, std::string>> fields;
  const std::string* field(const std::string& name) const;  // nullptr when absent
};

// [[id, [field, value, ...]], ...] (XRANGE, the entries of XREADGROUP and XAUTOCLAIM). A nil field list is
// a pending entry that was trimmed: it comes back with deleted set.
std::vector<StreamEntry> parse_entries(const redisReply* reply);
// XREADGROUP/XREAD of one stream: [[key, entries]] or nil (nothing before the BLOCK timeout).
std::vector<StreamEntry> parse_read_reply(const redisReply* reply);

}  // namespace sf
