#pragma once
// A redis-server of the test's own: 127.0.0.1, a free port, AOF on (fsync always), data in a temporary
// folder. stop() and start() again keep the port and the data: a restarted server, as after a crash or
// an upgrade. Without persistence, a restarted server comes back empty.
#include <memory>
#include <string>

#include "test_support.hpp"

namespace sf::test {

class RedisServer {
 public:
  enum class Persistence { Aof, None };
  explicit RedisServer(Persistence persistence = Persistence::Aof);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  void start();  // waits until it answers PING (bounded)
  void stop();   // SIGTERM: Redis writes its AOF and exits
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  std::string log() const;

 private:
  TempDir dir_;
  Persistence persistence_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace sf::test
