#pragma once
// The darknet .weights layout: a header (major, minor, revision as int32; `seen`, the images trained on,
// as uint64 from version 0.2 on and uint32 before), then float32 values, little-endian, layer by layer in
// the order of the .cfg. The file has no section markers, so a reader names the offset and the layer it
// was reading when the numbers run out or are left over.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace sf::train {

struct DarknetWeightsHeader {
  int32_t major = 0;
  int32_t minor = 2;
  int32_t revision = 0;
  uint64_t seen = 0;
  // Darknet's own rule: `seen` is 64-bit when major*10 + minor >= 2 (and both below 1000).
  bool seen_is_64bit() const;
  size_t bytes() const;  // 20 or 16
};

class DarknetWeightsReader {
 public:
  // Reads the whole file; throws std::runtime_error "cannot read PATH" or "PATH: N bytes, shorter than
  // its header".
  explicit DarknetWeightsReader(const std::filesystem::path& path);

  const DarknetWeightsHeader& header() const { return header_; }
  size_t offset() const { return offset_; }  // bytes consumed so far, header included

  // The next `count` floats. Throws "PATH: offset O: WHAT needs N floats, only M left" when short; `what`
  // names the layer (its cfg line) and the part being read.
  std::span<const float> take(size_t count, const std::string& what);
  // Throws "PATH: N bytes left after the last layer (offset O)" unless every byte was taken.
  void expect_end() const;

 private:
  std::string path_;
  DarknetWeightsHeader header_;
  std::vector<float>
      values_;             // everything after the header (the byte count is checked to be a multiple of 4)
  size_t tail_bytes_ = 0;  // bytes after the last whole float, reported by expect_end
  size_t offset_ = 0;
};

// Writes the header and the values as one file, whole (a temporary renamed over PATH).
void write_darknet_weights(const std::filesystem::path& path, const DarknetWeightsHeader& header,
                           std::span<const float> values);

}  // namespace sf::train
