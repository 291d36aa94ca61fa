#include "cli/summary_json.hpp"

#include <fstream>
#include <iostream>
#include <stdexcept>

namespace sf::cli {

void write_summary_json(const std::string& path, const nlohmann::json& summary) {
  if (path.empty()) return;
  if (path == "-") {
    std::cout << summary.dump(2) << std::endl;
    if (!std::cout) throw std::runtime_error("cannot write the summary to stdout");
    return;
  }
  std::ofstream out(path);
  out << summary.dump(2) << "\n";
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace sf::cli
