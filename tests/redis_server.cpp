#include "redis_server.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace sf::test {

namespace {

bool answers_ping(int port) {
  timeval timeout{0, 200000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  bool ok = false;
  if (c && !c->err) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply && reply->type == REDIS_REPLY_STATUS;
    if (reply) freeReplyObject(reply);
  }
  if (c) redisFree(c);
  return ok;
}

}  // namespace

RedisServer::RedisServer(Persistence persistence) : persistence_(persistence) {
  port_ = free_tcp_port();
  start();
}

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::log() const { return read_file(dir_ / "redis.log"); }

void RedisServer::start() {
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
      "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_.path().string(),
      "--appendonly", persistence_ == Persistence::Aof ? "yes" : "no", "--appendfsync", "always", "--save",
      "", "--logfile", (dir_ / "redis.log").string()});
  // Two minutes only catch a hang: a loaded machine may take seconds to start it.
  for (int i = 0; i < 6000; ++i) {
    if (answers_ping(port_)) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("redis-server did not start on port " + std::to_string(port_) + ": " + log());
}

void RedisServer::stop() {
  if (!process_) return;
  ::kill(process_->pid(), SIGTERM);
  process_->wait_exit(30);
  process_.reset();
}

}  // namespace sf::test
