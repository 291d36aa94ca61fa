#pragma once
// A darknet network description (.cfg) read into its sections: [net] and then one section per layer, in
// order, each with the line it starts on so that every later error can name FILE:LINE [section].
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sf::train {

struct DarknetSection {
  std::string type;  // "net", "convolutional", ... (the name between the brackets, aliases resolved)
  std::string file;
  int line = 0;  // the line of the "[type]" header
  std::map<std::string, std::string, std::less<>> options;

  // "FILE:LINE [type]": the prefix of every error about this section.
  std::string where() const;
  bool has(std::string_view key) const;
  // Typed reads; a present value that does not parse throws std::runtime_error naming where() and the key.
  int get_int(std::string_view key, int fallback) const;
  int require_int(std::string_view key) const;
  float get_float(std::string_view key, float fallback) const;
  std::string get_string(std::string_view key, std::string fallback) const;
  std::vector<int> get_ints(std::string_view key) const;      // "1, 2,3"; empty when absent
  std::vector<float> get_floats(std::string_view key) const;  // likewise
};

struct DarknetCfg {
  DarknetSection net;                  // [net] / [network]: input size and channels
  std::vector<DarknetSection> layers;  // every section after it; the index is darknet's layer index
};

// The sections sightflow builds: [net], [convolutional], [shortcut], [route], [upsample], [maxpool],
// [dropout], [yolo]. Any other section, a line outside a section or without "key=value", or a first
// section other than [net] throws std::runtime_error "FILE:LINE: ...". Unknown keys are kept (darknet's
// training keys are many); each layer checks the keys it reads.
DarknetCfg parse_darknet_cfg(std::string_view text, const std::string& file);
DarknetCfg read_darknet_cfg(const std::filesystem::path& path);  // "cannot read PATH" when unreadable

}  // namespace sf::train
