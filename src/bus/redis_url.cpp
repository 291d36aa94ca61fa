#include "bus/redis_url.hpp"

#include <stdexcept>

#include "common/url.hpp"

namespace sf {

std::string RedisEndpoint::describe() const {
  bool ipv6 = host.find(':') != std::string::npos;
  return "redis://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" +
         std::to_string(db);
}

RedisEndpoint parse_redis_url(const std::string& text) {
  if (!text.starts_with("redis://"))
    throw std::invalid_argument("Redis URL must start with redis:// (got '" + text + "')");
  RedisEndpoint e;
  Url url;
  try {
    url = parse_url(text);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument("bad Redis URL " + text + ": " + error.what());
  }
  e.host = url.host;
  if (url.port != 0) e.port = url.port;
  e.user = url.user;
  e.password = url.password;
  if (auto db = url.path.substr(1); !db.empty()) {
    size_t used = 0;
    int number = -1;
    try {
      number = std::stoi(db, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != db.size() || number < 0 || number > (1 << 20))
      throw std::invalid_argument("bad database number '" + db + "' in Redis URL " + text);
    e.db = number;
  }
  return e;
}

}  // namespace sf
