#pragma once
// Typed access to the free-form ModelParams, with errors that name the model and the parameter.
#include <set>
#include <string>

#include "sightflow/model.hpp"

namespace sf {

class ParamReader {
 public:
  ParamReader(std::string model, const ModelParams& params) : model_(std::move(model)), params_(params) {}
  double number(const std::string& key, double fallback);
  std::string text(const std::string& key, const std::string& fallback);
  // Throws std::invalid_argument if a parameter was given that no call above asked for (a typo).
  void reject_unknown() const;

 private:
  std::string model_;
  const ModelParams& params_;
  std::set<std::string> used_;
};

}  // namespace sf
