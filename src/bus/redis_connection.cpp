#include "bus/redis_connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace sf {

namespace {

timeval to_timeval(double seconds) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(seconds);
  tv.tv_usec = static_cast<suseconds_t>((seconds - double(tv.tv_sec)) * 1e6);
  return tv;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string command_name(const RedisCommand& args) { return args.empty() ? "" : std::string(args[0]); }

std::string describe_error(const redisReply* reply) { return std::string(reply->str, reply->len); }

// A command's arguments as hiredis takes them (binary-safe: pointers and lengths).
struct CommandArgv {
  explicit CommandArgv(const RedisCommand& args) {
    for (auto a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
  }
  int count() const { return int(argv.size()); }
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
};

// A server that restarts answers -LOADING while it reads its AOF/RDB back: wait, it is not a failure.
bool is_loading(const RedisReply& reply) {
  return reply && reply->type == REDIS_REPLY_ERROR &&
         std::string_view(reply->str, reply->len).starts_with("LOADING");
}

}  // namespace

RedisConnection::RedisConnection(RedisEndpoint endpoint, RedisRetryPolicy retry)
    : endpoint_(std::move(endpoint)), retry_(retry) {
  ensure_connected();
}

RedisConnection::~RedisConnection() { drop_connection(); }

void RedisConnection::drop_connection() {
  if (context_) redisFree(context_);
  context_ = nullptr;
}

bool RedisConnection::try_connect(std::string& error) {
  redisContext* c = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                            to_timeval(std::min(retry_.io_timeout_s, 5.0)));
  if (!c || c->err) {
    error = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return false;
  }
  redisSetTimeout(c, to_timeval(retry_.io_timeout_s));
  redisEnableKeepAlive(c);
  context_ = c;
  // Credentials and database are settings, not transient failures: their errors are thrown, not retried.
  auto setup = [&](const RedisCommand& args, const char* what) {
    CommandArgv command(args);
    RedisReply reply(static_cast<redisReply*>(
        redisCommandArgv(c, command.count(), command.argv.data(), command.lengths.data())));
    if (!reply) return false;
    if (reply->type == REDIS_REPLY_ERROR) {
      auto message = describe_error(reply.get());
      drop_connection();
      throw RedisError(endpoint_.describe() + ": " + what + " failed: " + message);
    }
    return true;
  };
  std::string db = std::to_string(endpoint_.db);
  bool ok = true;
  if (!endpoint_.password.empty()) {
    ok = endpoint_.user.empty() ? setup({"AUTH", endpoint_.password}, "AUTH")
                                : setup({"AUTH", endpoint_.user, endpoint_.password}, "AUTH");
  }
  if (ok && endpoint_.db != 0) ok = setup({"SELECT", db}, "SELECT");
  if (!ok) {
    error = context_->errstr;
    drop_connection();
  }
  return ok;
}

void RedisConnection::ensure_connected() {
  if (context_ && !context_->err) return;
  drop_connection();
  double start = now_s(), delay = retry_.initial_s;
  for (int attempt = 0;; ++attempt) {
    if (interrupted_) throw RedisUnavailable(endpoint_.describe() + ": interrupted while connecting");
    std::string error;
    if (try_connect(error)) {
      if (connected_once_) {
        ++reconnects_;
        spdlog::info("redis: reconnected to {} after {:.1f} s", endpoint_.describe(), now_s() - start);
        if (on_reconnect_) on_reconnect_();
      }
      connected_once_ = true;
      return;
    }
    double waited = now_s() - start;
    if (retry_.give_up_s > 0 && waited >= retry_.give_up_s)
      throw RedisUnavailable(endpoint_.describe() + ": cannot connect: " + error + " (gave up after " +
                             std::to_string(int(waited)) + " s)");
    if (attempt == 0 || (attempt % 10) == 0)
      spdlog::warn("redis: cannot connect to {}: {}; retrying (back-off up to {} s)", endpoint_.describe(),
                   error, retry_.max_s);
    // Sleep in slices so that interrupt() is seen quickly.
    for (double slept = 0; slept < delay && !interrupted_; slept += 0.05)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    delay = std::min(delay * 2, retry_.max_s);
  }
}

template <typename Attempt>
auto RedisConnection::with_retry(const char* what, Attempt attempt) {
  for (;;) {
    ensure_connected();
    auto result = attempt();
    if (context_->err == 0) return result;
    spdlog::warn("redis: {} to {} failed: {}; reconnecting", what, endpoint_.describe(), context_->errstr);
    drop_connection();
  }
}

RedisReply RedisConnection::command_or_error(const RedisCommand& args) {
  CommandArgv command(args);
  auto name = command_name(args);
  for (double delay = retry_.initial_s;; delay = std::min(delay * 2, retry_.max_s)) {
    auto reply = with_retry(name.c_str(), [&] {
      return RedisReply(static_cast<redisReply*>(
          redisCommandArgv(context_, command.count(), command.argv.data(), command.lengths.data())));
    });
    if (!is_loading(reply) || interrupted_) return reply;
    spdlog::info("redis: {} is loading its data; waiting", endpoint_.describe());
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
}

void throw_reply_error(const std::string& context, std::string_view error) {
  auto message = context + ": " + std::string(error);
  if (error.starts_with("NOGROUP")) throw RedisNoGroup(message);
  throw RedisError(message);
}

RedisReply RedisConnection::command(const RedisCommand& args) {
  auto reply = command_or_error(args);
  if (reply->type == REDIS_REPLY_ERROR)
    throw_reply_error(endpoint_.describe() + ": " + command_name(args), describe_error(reply.get()));
  return reply;
}

std::vector<RedisReply> RedisConnection::pipeline(const std::vector<RedisCommand>& commands) {
  for (double delay = retry_.initial_s;; delay = std::min(delay * 2, retry_.max_s)) {
    auto replies = pipeline_once(commands);
    if (interrupted_ || std::none_of(replies.begin(), replies.end(), is_loading)) return replies;
    spdlog::info("redis: {} is loading its data; waiting", endpoint_.describe());
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
}

std::vector<RedisReply> RedisConnection::pipeline_once(const std::vector<RedisCommand>& commands) {
  return with_retry("pipeline", [&] {
    std::vector<RedisReply> replies;
    for (const auto& args : commands) {
      CommandArgv command(args);
      if (redisAppendCommandArgv(context_, command.count(), command.argv.data(), command.lengths.data()) !=
          REDIS_OK)
        return replies;
    }
    for (size_t i = 0; i < commands.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(context_, &reply) != REDIS_OK) return replies;
      replies.emplace_back(static_cast<redisReply*>(reply));
    }
    return replies;
  });
}

std::string reply_string(const redisReply* reply) {
  if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS))
    throw RedisError("unexpected Redis reply: expected a string");
  return std::string(reply->str, reply->len);
}

int64_t reply_integer(const redisReply* reply) {
  if (!reply || reply->type != REDIS_REPLY_INTEGER)
    throw RedisError("unexpected Redis reply: expected an integer");
  return reply->integer;
}

bool reply_is_nil(const redisReply* reply) { return !reply || reply->type == REDIS_REPLY_NIL; }

const redisReply* reply_field(const redisReply* reply, std::string_view key) {
  if (!reply || reply->type != REDIS_REPLY_ARRAY) throw RedisError("unexpected Redis reply: expected a map");
  for (size_t i = 0; i + 1 < reply->elements; i += 2) {
    const auto* k = reply->element[i];
    if ((k->type == REDIS_REPLY_STRING || k->type == REDIS_REPLY_STATUS) &&
        std::string_view(k->str, k->len) == key)
      return reply->element[i + 1];
  }
  return nullptr;
}

}  // namespace sf
