#include "train/darknet_cfg.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sf::train {
namespace {

const std::map<std::string, std::string, std::less<>> kSectionNames = {{"net", "net"},
                                                                       {"network", "net"},
                                                                       {"convolutional", "convolutional"},
                                                                       {"conv", "convolutional"},
                                                                       {"shortcut", "shortcut"},
                                                                       {"route", "route"},
                                                                       {"upsample", "upsample"},
                                                                       {"maxpool", "maxpool"},
                                                                       {"max", "maxpool"},
                                                                       {"dropout", "dropout"},
                                                                       {"yolo", "yolo"}};

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

template <typename T>
std::vector<T> parse_list(const DarknetSection& section, std::string_view key) {
  std::vector<T> values;
  auto it = section.options.find(key);
  if (it == section.options.end()) return values;
  std::string_view rest = it->second;
  while (true) {
    const auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    T value{};
    if (!parse_number(item, value))
      throw std::runtime_error(section.where() + ": " + std::string(key) + " = " + it->second +
                               ": not a list of numbers");
    values.push_back(value);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return values;
}

template <typename T>
T get_number(const DarknetSection& section, std::string_view key, T fallback) {
  auto it = section.options.find(key);
  if (it == section.options.end()) return fallback;
  T value{};
  if (!parse_number(it->second, value))
    throw std::runtime_error(section.where() + ": " + std::string(key) + " = " + it->second +
                             ": not a number");
  return value;
}

}  // namespace

std::string DarknetSection::where() const { return file + ":" + std::to_string(line) + " [" + type + "]"; }

bool DarknetSection::has(std::string_view key) const { return options.find(key) != options.end(); }

int DarknetSection::get_int(std::string_view key, int fallback) const {
  return get_number(*this, key, fallback);
}

int DarknetSection::require_int(std::string_view key) const {
  if (!has(key)) throw std::runtime_error(where() + ": " + std::string(key) + " is missing");
  return get_int(key, 0);
}

float DarknetSection::get_float(std::string_view key, float fallback) const {
  return get_number(*this, key, fallback);
}

std::string DarknetSection::get_string(std::string_view key, std::string fallback) const {
  auto it = options.find(key);
  return it == options.end() ? fallback : it->second;
}

std::vector<int> DarknetSection::get_ints(std::string_view key) const { return parse_list<int>(*this, key); }

std::vector<float> DarknetSection::get_floats(std::string_view key) const {
  return parse_list<float>(*this, key);
}

DarknetCfg parse_darknet_cfg(std::string_view text, const std::string& file) {
  std::vector<DarknetSection> sections;
  int line_no = 0;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const std::string at = file + ":" + std::to_string(line_no);
    if (line.front() == '[') {
      if (line.back() != ']') throw std::runtime_error(at + ": a section header must end with ']'");
      const std::string_view name = trim(line.substr(1, line.size() - 2));
      auto known = kSectionNames.find(name);
      if (known == kSectionNames.end())
        throw std::runtime_error(
            at + ": unknown section [" + std::string(name) +
            "] (sightflow builds net, convolutional, shortcut, route, upsample, maxpool, "
            "dropout, yolo)");
      sections.push_back(DarknetSection{known->second, file, line_no, {}});
      continue;
    }
    if (sections.empty())
      throw std::runtime_error(at + ": \"" + std::string(line) + "\" is outside any section");
    const auto equals = line.find('=');
    if (equals == std::string_view::npos)
      throw std::runtime_error(sections.back().where() + ": line " + std::to_string(line_no) + ": \"" +
                               std::string(line) + "\" is not key=value");
    sections.back().options[std::string(trim(line.substr(0, equals)))] =
        std::string(trim(line.substr(equals + 1)));
  }
  if (sections.empty() || sections.front().type != "net")
    throw std::runtime_error(file + ": the first section must be [net]");
  DarknetCfg cfg;
  cfg.net = std::move(sections.front());
  cfg.layers.assign(std::make_move_iterator(sections.begin() + 1), std::make_move_iterator(sections.end()));
  if (cfg.layers.empty()) throw std::runtime_error(file + ": no layer after [net]");
  return cfg;
}

DarknetCfg read_darknet_cfg(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse_darknet_cfg(text.str(), path.string());
}

}  // namespace sf::train
