#pragma once
// The routes of a server that change it (register a model, start a stream, ...) and so need its token.
// The parts that add routes to a server declare them here; the server's token check answers 401 on
// these and 404 on any other request that would change state, so an unknown path is "not found" before
// it is "unauthorized", and a state-changing route nobody declared cannot be reached without a token.
// Filled while routes are added, before the server starts; read-only afterwards.
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace sf {

class GuardedRoutes {
 public:
  // `pattern`: a regular expression over the whole path, as cpp-httplib's routes take.
  void add(const std::string& method, const std::string& pattern);
  bool matches(const std::string& method, const std::string& path) const;

 private:
  std::vector<std::pair<std::string, std::regex>> routes_;
};

}  // namespace sf
