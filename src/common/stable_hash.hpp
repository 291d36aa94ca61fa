#pragma once
// FNV-1a over a string: unlike std::hash, the same on every build and machine, for what must stay put
// between runs (a label's colour, an archive folder's suffix).
#include <cstdint>
#include <string_view>

namespace sf {

inline uint32_t stable_hash(std::string_view text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

}  // namespace sf
