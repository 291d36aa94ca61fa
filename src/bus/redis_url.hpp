#pragma once
// Where a Redis server is: redis://[[user]:password@]host[:port][/db], as redis-cli and most clients take it.
#include <string>

namespace sf {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string user, password;  // AUTH when password is set (user only with Redis 6+ ACLs)

  std::string describe() const;  // "redis://host:port/db", never the password
};

// Throws std::invalid_argument naming the URL and what is wrong with it.
RedisEndpoint parse_redis_url(const std::string& url);

}  // namespace sf
