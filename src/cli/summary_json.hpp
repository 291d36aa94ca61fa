#pragma once
// --summary-json FILE: the end-of-run figures as JSON, to a file or, for "-", to stdout (after any result
// lines there), as other tools read "-".
#include <nlohmann/json.hpp>
#include <string>

namespace sf::cli {

// Nothing when `path` is empty. Throws std::runtime_error naming the file when it cannot be written.
void write_summary_json(const std::string& path, const nlohmann::json& summary);

}  // namespace sf::cli
