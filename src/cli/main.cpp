// sightflow: one binary, one subcommand per job.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sightflow: real-time video analytics (decode, schedule, detect, results)", "sightflow"};
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --log-level may follow the subcommand
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  auto run = sf::cli::add_run_command(app);
  app.parse_complete_callback([&] { spdlog::set_level(spdlog::level::from_str(log_level)); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (app.got_subcommand("run")) return run();
  } catch (const std::exception& e) {
    std::cerr << "sightflow: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
