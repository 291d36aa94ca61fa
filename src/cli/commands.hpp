#pragma once
// Each subcommand registers its options on the CLI11 app and returns the function that runs it.
#include <CLI/CLI.hpp>
#include <functional>

namespace sf::cli {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);

}  // namespace sf::cli
