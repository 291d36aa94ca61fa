#include "http/guarded_routes.hpp"

#include <algorithm>

namespace sf {

void GuardedRoutes::add(const std::string& method, const std::string& pattern) {
  routes_.emplace_back(method, std::regex(pattern));
}

bool GuardedRoutes::matches(const std::string& method, const std::string& path) const {
  return std::any_of(routes_.begin(), routes_.end(), [&](const auto& route) {
    return route.first == method && std::regex_match(path, route.second);
  });
}

}  // namespace sf
