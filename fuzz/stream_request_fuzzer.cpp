// A stream started over HTTP (POST /api/streams): the JSON body, read by parse_stream_request and the
// algorithm reader shared with YAML. Only 400s (HttpError) may come out.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "http/http_json.hpp"
#include "web/stream_controller.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = nlohmann::json::parse(reinterpret_cast<const char*>(data),
                                    reinterpret_cast<const char*>(data) + size, nullptr, false);
  if (body.is_discarded()) return 0;  // the server answers 400 before reading it
  try {
    sf::parse_stream_request(body);
  } catch (const sf::HttpError&) {
  }
  return 0;
}
