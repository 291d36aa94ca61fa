#include "infer/model_params.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace sf {
namespace {

std::string shown(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

void ParamReader::fail(const std::string& key, const std::string& problem) const {
  throw std::invalid_argument("model '" + model_ + "': parameter '" + key + "' " + problem);
}

double ParamReader::number(const std::string& key, double fallback) {
  used_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end()) return fallback;
  double v = 0;
  try {
    size_t used = 0;
    v = std::stod(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    fail(key, "must be a number, got '" + it->second + "'");
  }
  if (!std::isfinite(v)) fail(key, "must be a finite number, got '" + it->second + "'");
  return v;
}

double ParamReader::number(const std::string& key, double fallback, double min, double max) {
  double v = number(key, fallback);
  if (v < min || v > max) fail(key, "must be in [" + shown(min) + ", " + shown(max) + "], got " + shown(v));
  return v;
}

int ParamReader::integer(const std::string& key, int fallback, int min, int max) {
  double v = number(key, fallback, min, max);
  if (v != std::floor(v)) fail(key, "must be a whole number, got " + shown(v));
  return int(v);
}

std::string ParamReader::text(const std::string& key, const std::string& fallback) {
  used_.insert(key);
  auto it = params_.find(key);
  return it == params_.end() ? fallback : it->second;
}

void ParamReader::reject_unknown() const {
  for (const auto& [key, value] : params_) {
    if (!used_.count(key)) {
      std::string known;
      for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
      throw std::invalid_argument("model '" + model_ + "': unknown parameter '" + key + "' (known: " + known +
                                  ")");
    }
  }
}

}  // namespace sf
