#include "infer/model_params.hpp"

#include <stdexcept>

namespace sf {

double ParamReader::number(const std::string& key, double fallback) {
  used_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end()) return fallback;
  try {
    size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing characters");
    return v;
  } catch (const std::exception&) {
    throw std::invalid_argument("model '" + model_ + "': parameter '" + key + "' must be a number, got '" +
                                it->second + "'");
  }
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
