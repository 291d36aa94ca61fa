#include "bus/stream_lease.hpp"

#include <stdexcept>

namespace sf {

namespace {

// KEYS[1] lease; ARGV owner, ttl in ms. One script, so that checking and setting are one step.
constexpr const char* kHoldScript = R"(
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0)";

constexpr const char* kReleaseScript = R"(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0)";

}  // namespace

StreamLease::StreamLease(RedisConnection& redis, std::string key, std::string owner, double ttl_s)
    : redis_(redis), key_(std::move(key)), owner_(std::move(owner)), ttl_ms_(int64_t(ttl_s * 1000)) {
  if (ttl_ms_ < 100) throw std::invalid_argument("a lease must last at least 0.1 s");
  if (owner_.empty()) throw std::invalid_argument("a lease needs an owner name");
}

bool StreamLease::hold() {
  return reply_integer(
             redis_.command({"EVAL", kHoldScript, "1", key_, owner_, std::to_string(ttl_ms_)}).get()) == 1;
}

void StreamLease::release() { redis_.command({"EVAL", kReleaseScript, "1", key_, owner_}); }

std::string StreamLease::holder() {
  auto reply = redis_.command({"GET", key_});
  return reply_is_nil(reply.get()) ? "" : reply_string(reply.get());
}

}  // namespace sf
