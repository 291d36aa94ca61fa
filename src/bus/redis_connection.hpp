#pragma once
// One connection to Redis (hiredis), which survives a restarted server or a lost network: a command that
// fails on the connection reconnects with exponential back-off and is sent again. Commands are therefore
// at-least-once; everything sightflow sends is safe to repeat (XADD of a frame twice gives a duplicate that
// the idempotent results absorb, XACK and XGROUP CREATE are idempotent). Not thread-safe: one per thread.
#include <hiredis/hiredis.h>

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bus/redis_url.hpp"

namespace sf {

// The server answered with an error (WRONGTYPE, NOGROUP, ...); what() names the command and the server.
class RedisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// NOGROUP: the stream or its consumer group does not exist, typically because Redis restarted without
// persistence (or someone deleted the key). Readers recreate the group and go on.
class RedisNoGroup : public RedisError {
 public:
  using RedisError::RedisError;
};
// Throws the error reply `error` of what `context` names: RedisNoGroup for NOGROUP, else RedisError.
[[noreturn]] void throw_reply_error(const std::string& context, std::string_view error);
// The server could not be reached within the give-up time, or the connection was interrupted.
class RedisUnavailable : public RedisError {
 public:
  using RedisError::RedisError;
};

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReply = std::unique_ptr<redisReply, ReplyDeleter>;

struct RedisRetryPolicy {
  double initial_s = 0.1;      // first back-off delay; doubles after each failed attempt
  double max_s = 5.0;          // back-off cap
  double give_up_s = 0;        // stop retrying after this long without a connection (0: never)
  double io_timeout_s = 10.0;  // socket read/write timeout (must exceed any BLOCK time)
};

using RedisCommand = std::vector<std::string_view>;

class RedisConnection {
 public:
  // Connects at once (with the retry policy): a server that is not there yet is waited for.
  explicit RedisConnection(RedisEndpoint endpoint, RedisRetryPolicy retry = {});
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command; an error reply throws RedisError.
  RedisReply command(const RedisCommand& args);
  // Like command(), but an error reply is returned instead of thrown.
  RedisReply command_or_error(const RedisCommand& args);
  // Sends several commands in one round trip; replies in order (error replies included, not thrown). On a
  // lost connection the whole batch is sent again.
  std::vector<RedisReply> pipeline(const std::vector<RedisCommand>& commands);

  // Called after every reconnect (not the first connect), before the retried command is sent.
  void on_reconnect(std::function<void()> callback) { on_reconnect_ = std::move(callback); }
  // Makes a waiting retry loop give up (RedisUnavailable) soon; safe from another thread.
  void interrupt() { interrupted_ = true; }
  bool interrupted() const { return interrupted_; }
  int64_t reconnects() const { return reconnects_; }
  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  void ensure_connected();
  bool try_connect(std::string& error);
  void drop_connection();
  std::vector<RedisReply> pipeline_once(const std::vector<RedisCommand>& commands);
  template <typename Attempt>
  auto with_retry(const char* what, Attempt attempt);

  RedisEndpoint endpoint_;
  RedisRetryPolicy retry_;
  redisContext* context_ = nullptr;
  bool connected_once_ = false;
  std::atomic<int64_t> reconnects_{0};
  std::atomic<bool> interrupted_{false};
  std::function<void()> on_reconnect_;
};

// Reply helpers. Each throws RedisError saying what was expected when the reply has another shape.
std::string reply_string(const redisReply* reply);  // bulk string or status
int64_t reply_integer(const redisReply* reply);
bool reply_is_nil(const redisReply* reply);
// A flat [key, value, key, value...] array (XINFO) looked up by key; nullptr when absent.
const redisReply* reply_field(const redisReply* reply, std::string_view key);

}  // namespace sf
