// URLs and addresses from flags, configs and API requests: http:// (webhook, top), redis://, mqtt[s]://,
// HOST:PORT (--listen, --metrics) and source URIs (classification and default stream names).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "bus/redis_url.hpp"
#include "http/http_url.hpp"
#include "http/listen.hpp"
#include "sightflow/source.hpp"
#include "sink/mqtt_url.hpp"

namespace {

template <typename Parse>
void parse_or_refuse(Parse parse) {
  try {
    parse();
  } catch (const std::invalid_argument&) {
  }
}

bool valid_port(int port) { return port >= 0 && port <= 65535; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  parse_or_refuse([&] {
    auto url = sf::parse_http_url(text, "fuzz");
    if (!valid_port(url.port) || url.path.empty() || url.path[0] != '/') __builtin_trap();
  });
  parse_or_refuse([&] {
    auto endpoint = sf::parse_redis_url(text);
    if (!valid_port(endpoint.port) || endpoint.db < 0) __builtin_trap();
    endpoint.describe();
  });
  parse_or_refuse([&] {
    auto broker = sf::parse_mqtt_url(text);
    if (!valid_port(broker.port)) __builtin_trap();
    broker.describe();
  });
  parse_or_refuse([&] {
    auto [host, port] = sf::parse_listen_address(text, "--listen");
    if (!valid_port(port)) __builtin_trap();
  });
  // Never a file system path (that would touch the machine's files).
  if (text.find("://") != std::string::npos) {
    sf::classify_uri(text);
    sf::default_stream_name(text);
  }
  return 0;
}
