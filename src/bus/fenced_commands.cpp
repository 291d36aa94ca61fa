#include "bus/fenced_commands.hpp"

namespace sf {

namespace {

// Every script starts so: the lease must name ARGV[1] (or nobody: then nothing was done under it since),
// and it is renewed for ARGV[2] ms.
constexpr const char* kLeaseCheck = R"(
local holder = redis.call('GET', KEYS[1])
if holder ~= false and holder ~= ARGV[1] then
  return redis.error_reply('LEASE the stream is owned by ' .. holder)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
)";

// KEYS[1] lease, KEYS[2] frames; ARGV: owner, ttl ms, group, count, from.
const std::string kReadScript =
    std::string(kLeaseCheck) +
    "return redis.call('XREADGROUP', 'GROUP', ARGV[3], ARGV[1], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], "
    "ARGV[5])";

// KEYS[1] lease, KEYS[2] stage log; ARGV: owner, ttl ms, first logged frame (-1: none), then each command
// as its argument count followed by its arguments.
const std::string kCommitScript = std::string(kLeaseCheck) + R"(
local first = tonumber(ARGV[3])
if first >= 0 then
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  if #last > 0 then
    local fields = last[1][2]
    for i = 1, #fields, 2 do
      if fields[i] == 'frame' and tonumber(fields[i + 1]) >= first then return 0 end
    end
  end
end
local i = 4
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 1)";

// The script's reply, or LeaseLost for its lease error.
RedisReply run_fenced(RedisConnection& redis, const StreamLease& lease, const RedisCommand& eval,
                      const char* what) {
  auto reply = redis.command_or_error(eval);
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string error(reply->str, reply->len);
    if (error.rfind("LEASE ", 0) == 0)
      throw LeaseLost("lost the lease " + lease.key() + ": " + error.substr(6) + ", not " + lease.owner());
    throw_reply_error(what, error);
  }
  return reply;
}

}  // namespace

std::vector<StreamEntry> fenced_read(RedisConnection& redis, const StreamLease& lease, const std::string& key,
                                     const std::string& group, int count, const std::string& from) {
  auto ttl = std::to_string(lease.ttl_ms());
  auto n = std::to_string(count);
  auto reply = run_fenced(redis, lease,
                          {"EVAL", kReadScript, "2", lease.key(), key, lease.owner(), ttl, group, n, from},
                          "reading under the lease");
  return parse_read_reply(reply.get());
}

bool fenced_commit(RedisConnection& redis, const StreamLease& lease, const std::string& stage_log,
                   int64_t first_logged_frame, const std::vector<OwnedCommand>& commands) {
  std::vector<std::string> counts;  // kept alive: the command holds views
  counts.reserve(commands.size());
  for (const auto& c : commands) counts.push_back(std::to_string(c.size()));
  auto ttl = std::to_string(lease.ttl_ms());
  auto first = std::to_string(first_logged_frame);
  RedisCommand eval = {"EVAL", kCommitScript, "2", lease.key(), stage_log, lease.owner(), ttl, first};
  for (size_t i = 0; i < commands.size(); ++i) {
    eval.push_back(counts[i]);
    eval.insert(eval.end(), commands[i].begin(), commands[i].end());
  }
  return reply_integer(run_fenced(redis, lease, eval, "committing a batch").get()) == 1;
}

}  // namespace sf
