#include "sightflow/sink_options.hpp"

#include <cmath>

namespace sf {

SinkOptionReader::SinkOptionReader(const nlohmann::json& options, const std::string& short_key,
                                   std::string prefix)
    : prefix_(std::move(prefix)) {
  if (options.is_null())
    options_ = nlohmann::json::object();
  else if (options.is_object())
    options_ = options;
  else if (options.is_primitive())
    options_ = {{short_key, options}};
  else
    fail("", "expected a value or a mapping");
}

void SinkOptionReader::fail(const std::string& key, const std::string& problem) const {
  std::string name = prefix_.empty() || key.empty() ? prefix_ + key : prefix_ + "." + key;
  throw SinkOptionError(name, problem);
}

void SinkOptionReader::only_keys(std::initializer_list<const char*> allowed) const {
  for (const auto& [key, value] : options_.items()) {
    bool known = false;
    std::string list;
    for (const char* a : allowed) {
      known = known || key == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!known) fail(key, "unknown key (expected one of: " + list + ")");
  }
}

const nlohmann::json* SinkOptionReader::find(const std::string& key) const {
  auto it = options_.find(key);
  return it == options_.end() || it->is_null() ? nullptr : &*it;
}

bool SinkOptionReader::has(const std::string& key) const { return find(key) != nullptr; }

std::string SinkOptionReader::text(const std::string& key, const std::string& fallback) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();  // a file named 2024 is still a name
  fail(key, "expected text, got " + v->dump());
}

std::string SinkOptionReader::required_text(const std::string& key, const std::string& what) const {
  auto value = text(key, "");
  if (value.empty()) fail(key, "missing (" + what + ")");
  return value;
}

double SinkOptionReader::number(const std::string& key, double fallback) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_number() || !std::isfinite(v->get<double>())) fail(key, "expected a number, got " + v->dump());
  return v->get<double>();
}

int64_t SinkOptionReader::integer(const std::string& key, int64_t fallback) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_number_integer()) fail(key, "expected an integer, got " + v->dump());
  return v->get<int64_t>();
}

bool SinkOptionReader::boolean(const std::string& key, bool fallback) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(key, "expected true or false, got " + v->dump());
  return v->get<bool>();
}

SinkOptionReader SinkOptionReader::object(const std::string& key) const {
  const auto* v = find(key);
  std::string name = prefix_.empty() ? key : prefix_ + "." + key;
  if (v && !v->is_object()) throw SinkOptionError(name, "expected a mapping");
  return SinkOptionReader(v ? *v : nlohmann::json::object(), "", name);
}

}  // namespace sf
