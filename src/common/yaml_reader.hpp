#pragma once
// Strict YAML reading shared by run configs and the model catalog: unknown or repeated keys, wrong types
// and values outside a list are errors that say "origin:line: field: problem" (thrown as Error).
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace sf {

inline std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// Well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF), as JSON
// output requires: nlohmann::json's dump() throws on anything else.
inline bool is_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t more = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the first continuation byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) low = 0xA0;   // overlong
      if (c == 0xED) high = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) low = 0x90;   // overlong
      if (c == 0xF4) high = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (text.size() - i <= more) return false;
    for (size_t k = 1; k <= more; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if (d < (k == 1 ? low : 0x80) || d > (k == 1 ? high : 0xBF)) return false;
    }
    i += more + 1;
  }
  return true;
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

  // The whole document, once, before any field is read: every mapping key is text, all text is UTF-8, and
  // the tree is at most kMaxDepth deep and kMaxValues large. A key that is a list or a mapping, bytes (or
  // escapes such as "\uD800") that are not UTF-8, an alias inside its own anchor (a node that contains
  // itself) and aliases that multiply a node ("billion laughs") fail here with their line, rather than as
  // a yaml-cpp or JSON exception, a stack overflow or an endless copy later.
  static constexpr int kMaxDepth = 64;
  static constexpr size_t kMaxValues = 100000;
  void check_document(const YAML::Node& root) const {
    size_t values = 0;
    check_tree(root, 0, values);
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
  void check_tree(const YAML::Node& node, int depth, size_t& values) const {
    if (++values > kMaxValues)
      fail(node, "document", "more than " + std::to_string(kMaxValues) + " values (aliases that multiply?)");
    if (depth > kMaxDepth)
      fail(node, "document",
           "nested deeper than " + std::to_string(kMaxDepth) + " levels (an alias inside its anchor?)");
    if (node.IsScalar() && !is_utf8(node.Scalar())) fail(node, "document", "text that is not UTF-8");
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) fail(kv.first, "document", "a key must be text, not " + describe(kv.first));
        if (!is_utf8(kv.first.Scalar())) fail(kv.first, "document", "text that is not UTF-8");
        check_tree(kv.second, depth + 1, values);
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) check_tree(item, depth + 1, values);
    }
  }
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
