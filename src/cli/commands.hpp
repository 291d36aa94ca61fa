#pragma once
// Each subcommand registers its options on the CLI11 app and returns the function that runs it.
#include <CLI/CLI.hpp>
#include <functional>

#include "sightflow/model.hpp"

namespace sf::cli {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_models_command(CLI::App& app);
Command add_query_command(CLI::App& app);
Command add_capture_command(CLI::App& app);
Command add_worker_command(CLI::App& app);
Command add_replay_command(CLI::App& app);
Command add_serve_command(CLI::App& app);
Command add_client_command(CLI::App& app);
Command add_top_command(CLI::App& app);

// "NAME=VALUE" flags (--param) into model parameters; throws naming a malformed one.
ModelParams parse_params(const std::vector<std::string>& flags);

}  // namespace sf::cli
