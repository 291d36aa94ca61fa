// The bounds of `sightflow replay --from/--to`: "-", "+", stream IDs and ISO 8601 UTC times.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "bus/replay.hpp"
#include "bus/stream_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (bool is_end : {false, true}) {
    std::string bound;
    try {
      bound = sf::parse_replay_bound(text, is_end);
    } catch (const std::invalid_argument&) {
      continue;
    }
    // What XRANGE gets is "-", "+" or a stream ID: anything else escapes as an uncaught exception.
    if (bound != "-" && bound != "+") sf::StreamId::parse(bound);
  }
  return 0;
}
