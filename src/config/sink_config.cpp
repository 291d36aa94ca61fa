#include <algorithm>

#include "sightflow/config.hpp"

namespace sf {

const SinkSpec* SinkConfig::find(const std::string& type) const {
  auto it = std::find_if(specs.begin(), specs.end(), [&](const SinkSpec& s) { return s.type == type; });
  return it == specs.end() ? nullptr : &*it;
}

void SinkConfig::set(const std::string& type, nlohmann::json options) {
  auto it = std::find_if(specs.begin(), specs.end(), [&](const SinkSpec& s) { return s.type == type; });
  if (it == specs.end())
    specs.push_back({type, std::move(options)});
  else
    it->options = std::move(options);
}

void SinkConfig::erase(const std::string& type) {
  std::erase_if(specs, [&](const SinkSpec& s) { return s.type == type; });
}

nlohmann::json SinkConfig::object_options(const std::string& type, const std::string& short_key) const {
  const auto* spec = find(type);
  if (!spec || spec->options.is_null()) return nlohmann::json::object();
  if (spec->options.is_object()) return spec->options;
  return {{short_key, spec->options}};
}

}  // namespace sf
