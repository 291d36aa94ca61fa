// Frame messages as a worker reads them from sf:frames:NAME (anyone who can XADD writes them).
// Input: "FIELD VALUE" lines, then an empty line; the rest of the input is the `data` field (the JPEG).
// A `path` field is dropped: reading spilled files is the spill folder's business (tested on its own), and
// a fuzzer must not read the machine's files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bus/frame_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  sf::StreamEntry entry;
  entry.id = "1-0";
  while (!input.empty()) {
    auto end = input.find('\n');
    auto line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    if (line.empty()) {
      entry.fields.emplace_back("data", std::string(input));
      break;
    }
    auto space = line.find(' ');
    std::string name(line.substr(0, space));
    if (name == "path") continue;
    entry.fields.emplace_back(name, space == std::string_view::npos ? "" : line.substr(space + 1));
  }
  try {
    auto frame = sf::decode_frame_message("fuzz", entry);
    if (frame.image.empty()) __builtin_trap();  // a frame decoded without an image
  } catch (const sf::FrameMessageError&) {
  }
  return 0;
}
