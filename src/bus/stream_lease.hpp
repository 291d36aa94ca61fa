#pragma once
// A lease in Redis that makes one process the owner of something (here: the only reader of a stream whose
// stages need its frames in order). The key holds the owner's name and expires after ttl unless the owner
// holds it again: a process killed with -9 loses it ttl seconds later, and another takes over.
//
// hold() is both acquire and renew: it succeeds when the key names this owner or nobody. Taking over a
// lease that expired while nobody else held it is safe: nothing was done under it in between.
#include <string>

#include "bus/redis_connection.hpp"

namespace sf {

// The lease is held by another owner: whatever this process was doing under it must stop.
class LeaseLost : public RedisError {
 public:
  using RedisError::RedisError;
};

class StreamLease {
 public:
  StreamLease(RedisConnection& redis, std::string key, std::string owner, double ttl_s);
  // Takes or renews the lease for ttl; false when another owner holds it.
  bool hold();
  // Gives the lease up now if this owner holds it (a standby takes over at once).
  void release();
  // The current holder's name; empty when nobody holds it.
  std::string holder();

  const std::string& key() const { return key_; }
  const std::string& owner() const { return owner_; }
  int64_t ttl_ms() const { return ttl_ms_; }

 private:
  RedisConnection& redis_;
  std::string key_, owner_;
  int64_t ttl_ms_;
};

}  // namespace sf
