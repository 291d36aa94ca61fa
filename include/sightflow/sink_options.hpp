#pragma once
// Strict reading of a sink's options (JSON from YAML, flags or code), for the built-in sinks and a
// program's own: unknown keys, wrong types and bad values throw SinkOptionError naming the key, so the
// YAML reader can point at its line.
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "sightflow/sink.hpp"

namespace sf {

class SinkOptionReader {
 public:
  // `options` is an object, or a scalar short form standing for {short_key: value} (`jsonl: out.jsonl`,
  // `webhook: URL`); null is an empty object. `prefix` is prepended to the keys errors name.
  SinkOptionReader(const nlohmann::json& options, const std::string& short_key, std::string prefix = "");

  void only_keys(std::initializer_list<const char*> allowed) const;
  bool has(const std::string& key) const;
  std::string text(const std::string& key, const std::string& fallback) const;
  // A non-empty text; `what` says what to give when it is missing.
  std::string required_text(const std::string& key, const std::string& what) const;
  double number(const std::string& key, double fallback) const;
  int64_t integer(const std::string& key, int64_t fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  // The object under `key` (an empty one when absent), its errors named "key.inner".
  SinkOptionReader object(const std::string& key) const;

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;

 private:
  const nlohmann::json* find(const std::string& key) const;
  nlohmann::json options_;
  std::string prefix_;
};

}  // namespace sf
