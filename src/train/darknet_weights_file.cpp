#include "train/darknet_weights_file.hpp"

#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "common/atomic_file.hpp"

namespace sf::train {

static_assert(std::endian::native == std::endian::little, "darknet weights are little-endian");

bool DarknetWeightsHeader::seen_is_64bit() const {
  return major * 10 + minor >= 2 && major < 1000 && minor < 1000;
}

size_t DarknetWeightsHeader::bytes() const { return 3 * sizeof(int32_t) + (seen_is_64bit() ? 8 : 4); }

DarknetWeightsReader::DarknetWeightsReader(const std::filesystem::path& path) : path_(path.string()) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path_);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read " + path_);
  const auto too_short = [&] {
    return std::runtime_error(path_ + ": " + std::to_string(bytes.size()) +
                              " bytes, shorter than its header");
  };
  if (bytes.size() < 12) throw too_short();
  std::memcpy(&header_.major, bytes.data(), 4);
  std::memcpy(&header_.minor, bytes.data() + 4, 4);
  std::memcpy(&header_.revision, bytes.data() + 8, 4);
  if (bytes.size() < header_.bytes()) throw too_short();
  if (header_.seen_is_64bit()) {
    std::memcpy(&header_.seen, bytes.data() + 12, 8);
  } else {
    uint32_t seen = 0;
    std::memcpy(&seen, bytes.data() + 12, 4);
    header_.seen = seen;
  }
  offset_ = header_.bytes();
  const size_t body = bytes.size() - offset_;
  values_.resize(body / sizeof(float));
  tail_bytes_ = body % sizeof(float);
  std::memcpy(values_.data(), bytes.data() + offset_, values_.size() * sizeof(float));
}

std::span<const float> DarknetWeightsReader::take(size_t count, const std::string& what) {
  const size_t index = (offset_ - header_.bytes()) / sizeof(float);
  const size_t left = values_.size() - index;
  if (count > left)
    throw std::runtime_error(path_ + ": offset " + std::to_string(offset_) + ": " + what + " needs " +
                             std::to_string(count) + " floats, only " + std::to_string(left) +
                             " left (the weights are shorter than the cfg)");
  offset_ += count * sizeof(float);
  return std::span<const float>(values_).subspan(index, count);
}

void DarknetWeightsReader::expect_end() const {
  const size_t left = (values_.size() * sizeof(float) + header_.bytes() + tail_bytes_) - offset_;
  if (left != 0)
    throw std::runtime_error(path_ + ": " + std::to_string(left) +
                             " bytes left after the last layer (offset " + std::to_string(offset_) +
                             "): the weights are longer than the cfg");
}

void write_darknet_weights(const std::filesystem::path& path, const DarknetWeightsHeader& header,
                           std::span<const float> values) {
  std::string bytes(header.bytes() + values.size_bytes(), '\0');
  std::memcpy(bytes.data(), &header.major, 4);
  std::memcpy(bytes.data() + 4, &header.minor, 4);
  std::memcpy(bytes.data() + 8, &header.revision, 4);
  if (header.seen_is_64bit()) {
    std::memcpy(bytes.data() + 12, &header.seen, 8);
  } else {
    const auto seen = static_cast<uint32_t>(header.seen);
    std::memcpy(bytes.data() + 12, &seen, 4);
  }
  std::memcpy(bytes.data() + header.bytes(), values.data(), values.size_bytes());
  write_file_atomically(path, bytes);
}

}  // namespace sf::train
