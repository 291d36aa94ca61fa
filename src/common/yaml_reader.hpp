#pragma once
// Strict YAML reading shared by run configs and the model catalog: unknown or repeated keys, wrong types
// and values outside a list are errors that say "origin:line: field: problem" (thrown as Error).
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace sf {

inline std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

template <typename Error>
class YamlReader {
 public:
  explicit YamlReader(std::string origin) : origin_(std::move(origin)) {}
  [[noreturn]] void fail(const YAML::Node& node, const std::string& field, const std::string& problem) const {
    std::string where = origin_;
    if (node.IsDefined() && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
    throw Error(where + ": " + field + ": " + problem);
  }

  void only_keys(const YAML::Node& map, const std::string& field,
                 const std::set<std::string>& allowed) const {
    if (!map.IsMap()) fail(map, field, "expected a mapping");
    std::set<std::string> seen;
    for (const auto& kv : map) {
      auto key = kv.first.as<std::string>();
      auto key_field = field.empty() ? key : field + "." + key;
      if (!allowed.count(key))
        fail(kv.first, key_field,
             "unknown key (expected one of: " + join({allowed.begin(), allowed.end()}) + ")");
      // yaml-cpp keeps both copies of a repeated key and lookups see only the first.
      if (!seen.insert(key).second) fail(kv.first, key_field, "repeated key");
    }
  }

  // A key that must be present; `what` says what to give (shown when it is missing).
  YAML::Node require(const YAML::Node& map, const std::string& key, const std::string& field,
                     const std::string& what) const {
    YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) fail(map, field + "." + key, "missing (" + what + ")");
    return node;
  }

  static bool present(const YAML::Node& map, const std::string& key) {
    YAML::Node node = map[key];
    return node.IsDefined() && !node.IsNull();
  }

  template <typename T>
  T scalar(const YAML::Node& node, const std::string& field) const {
    try {
      if (!node.IsScalar()) throw YAML::Exception(node.Mark(), "");
      T value = node.as<T>();
      // yaml-cpp reads .inf and .nan as numbers; no setting means them, and past here they lose the line.
      if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(value)) fail(node, field, "expected a finite number, got " + describe(node));
      }
      return value;
    } catch (const YAML::Exception&) {
      fail(node, field, std::string("expected ") + type_name<T>() + ", got " + describe(node));
    }
  }

  template <typename T>
  T get(const YAML::Node& map, const std::string& key, const std::string& field, T fallback) const {
    if (!present(map, key)) return fallback;
    return scalar<T>(map[key], field + "." + key);
  }

  std::string choice(const YAML::Node& node, const std::string& field,
                     const std::vector<std::string>& allowed) const {
    auto value = scalar<std::string>(node, field);
    for (const auto& a : allowed) {
      if (value == a) return value;
    }
    fail(node, field, "unknown value '" + value + "' (expected one of: " + join(allowed) + ")");
  }

  // One number or a list of them.
  std::vector<double> numbers(const YAML::Node& node, const std::string& field) const {
    if (node.IsScalar()) return {scalar<double>(node, field)};
    if (!node.IsSequence()) fail(node, field, "expected a number or a list of numbers");
    std::vector<double> out;
    for (const auto& item : node) out.push_back(scalar<double>(item, field));
    return out;
  }

  // One name or a list of names.
  std::vector<std::string> strings(const YAML::Node& map, const std::string& key,
                                   const std::string& field) const {
    if (!present(map, key)) return {};
    auto node = map[key];
    if (node.IsScalar()) return {node.as<std::string>()};
    if (!node.IsSequence()) fail(node, field + "." + key, "expected a list of names");
    std::vector<std::string> out;
    for (const auto& item : node) out.push_back(scalar<std::string>(item, field + "." + key));
    return out;
  }

 private:
  template <typename T>
  static const char* type_name() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    if constexpr (std::is_integral_v<T>) return "an integer";
    if constexpr (std::is_floating_point_v<T>) return "a number";
    return "text";
  }
  static std::string describe(const YAML::Node& node) {
    if (node.IsScalar()) return "'" + node.Scalar() + "'";
    if (node.IsNull()) return "nothing";
    return node.IsSequence() ? "a list" : "a mapping";
  }
  std::string origin_;
};

}  // namespace sf
