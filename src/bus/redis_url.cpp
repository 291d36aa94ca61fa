#include "bus/redis_url.hpp"

#include <stdexcept>

namespace sf {

namespace {

int parse_number(const std::string& text, const std::string& url, const char* what, int low, int high) {
  size_t used = 0;
  int value = -1;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || value < low || value > high)
    throw std::invalid_argument("bad " + std::string(what) + " '" + text + "' in Redis URL " + url);
  return value;
}

}  // namespace

std::string RedisEndpoint::describe() const {
  return "redis://" + host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

RedisEndpoint parse_redis_url(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("Redis URL must start with redis:// (got '" + url + "')");
  RedisEndpoint e;
  std::string rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty()) e.db = parse_number(db, url, "database number", 0, 1 << 20);
    rest.resize(slash);
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    auto credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = credentials.find(':');
    if (colon == std::string::npos) {
      e.password = credentials;
    } else {
      e.user = credentials.substr(0, colon);
      e.password = credentials.substr(colon + 1);
    }
  }
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    e.port = parse_number(rest.substr(colon + 1), url, "port", 1, 65535);
    rest.resize(colon);
  }
  if (!rest.empty()) e.host = rest;
  return e;
}

}  // namespace sf
