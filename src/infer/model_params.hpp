#pragma once
// Typed access to the free-form ModelParams, with errors that name the model, the parameter and, for
// bounded ones, the range allowed.
#include <set>
#include <string>

#include "sightflow/model.hpp"

namespace sf {

class ParamReader {
 public:
  ParamReader(std::string model, const ModelParams& params) : model_(std::move(model)), params_(params) {}
  // A finite number ("nan" and "inf" are refused).
  double number(const std::string& key, double fallback);
  // A finite number in [min, max].
  double number(const std::string& key, double fallback, double min, double max);
  // A whole number in [min, max]: parameters that size buffers or loops are bounded where they are read.
  int integer(const std::string& key, int fallback, int min, int max);
  std::string text(const std::string& key, const std::string& fallback);
  // Throws std::invalid_argument if a parameter was given that no call above asked for (a typo).
  void reject_unknown() const;
  // Throws std::invalid_argument: "model 'M': parameter 'key' PROBLEM".
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;

 private:
  std::string model_;
  const ModelParams& params_;
  std::set<std::string> used_;
};

}  // namespace sf
