// sightflow: one binary, one subcommand per job.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/heap_policy.hpp"
#include "common/build_info.hpp"
#include "media/image_probe.hpp"
#include "sightflow/model_catalog.hpp"
#include "sightflow/model_pool.hpp"

namespace {

// Exit statuses (README, "Exit status"): 0 done, 1 failed, 2 stopped by an error while running, 3
// `models --check` found a problem, and one code for every command-line mistake: sysexits.h's EX_USAGE,
// where CLI11 would answer 104-109 by kind of mistake.
constexpr int kUsageError = 64;

// https://no-color.org: a set, non-empty NO_COLOR turns colour off (spdlog already leaves it off when
// stderr is not a terminal).
spdlog::color_mode log_colors() {
  const char* no_color = std::getenv("NO_COLOR");
  return no_color && *no_color ? spdlog::color_mode::never : spdlog::color_mode::automatic;
}

// A first word that names no subcommand, or an option no one has: CLI11 only says that a subcommand is
// required.
bool report_unknown_word(const CLI::App& app, const CLI::ParseError& e) {
  auto extra = app.remaining();
  if (dynamic_cast<const CLI::RequiredError*>(&e) == nullptr || extra.empty()) return false;
  if (extra.front().starts_with("-")) {
    std::cerr << "sightflow: unknown option '" << extra.front() << "'";
  } else {
    std::string names;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      names += (names.empty() ? "" : ", ") + sub->get_name();
    std::cerr << "sightflow: unknown subcommand '" << extra.front() << "' (one of " << names << ")";
  }
  std::cerr << "\nRun with --help for more information.\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  sf::cli::limit_malloc_arenas();  // before any thread allocates
  sf::cli::start_heap_trimmer();
  // Logs go to stderr: stdout carries data (`--out -` JSON Lines, `query` rows, `--json` lines).
  spdlog::set_default_logger(spdlog::stderr_color_mt("sightflow", log_colors()));
  CLI::App app{"sightflow: real-time video analytics (decode, schedule, detect, results)", "sightflow"};
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --log-level may follow the subcommand
  app.set_version_flag(
      "--version", [] { return sf::version_text(); },
      "print the version, the git revision and the OpenCV and FFmpeg versions, and exit");
  std::string log_level = "info";
  std::string models_dir, catalog;
  int threads = 0;
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  app.add_option("--models", models_dir, "folder with the model files (default: $SIGHTFLOW_MODELS)");
  app.add_option("--catalog", catalog,
                 "model catalog YAML (default: $SIGHTFLOW_CATALOG or the built-in one)");
  app.add_option("--threads", threads, "threads OpenCV uses inside one inference (0: one per core)")
      ->check(CLI::NonNegativeNumber);
  int64_t max_pixels = sf::kDefaultMaxImagePixels;
  app.add_option("--max-pixels", max_pixels,
                 "largest image or frame (width x height) decoded from outside: request images, bus frames, "
                 "image files, video streams (over a run config's max_pixels)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  std::vector<std::pair<const char*, sf::cli::Command>> commands = {
      {"run", sf::cli::add_run_command(app)},         {"eval", sf::cli::add_eval_command(app)},
      {"bench", sf::cli::add_bench_command(app)},     {"models", sf::cli::add_models_command(app)},
      {"query", sf::cli::add_query_command(app)},     {"capture", sf::cli::add_capture_command(app)},
      {"worker", sf::cli::add_worker_command(app)},   {"replay", sf::cli::add_replay_command(app)},
      {"serve", sf::cli::add_serve_command(app)},     {"client", sf::cli::add_client_command(app)},
      {"dataset", sf::cli::add_dataset_command(app)}, {"tune", sf::cli::add_tune_command(app)},
      {"top", sf::cli::add_top_command(app)},
  };
  app.parse_complete_callback([&] { spdlog::set_level(spdlog::level::from_str(log_level)); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    if (!report_unknown_word(app, e)) app.exit(e);
    return kUsageError;
  }
  try {
    auto where = sf::model_locations();
    if (!models_dir.empty()) where.models_dir = models_dir;
    if (!catalog.empty()) where.catalog = catalog;
    sf::set_model_locations(where);
    if (threads > 0) sf::ModelPool::fix_opencv_threads(threads);
    sf::set_max_image_pixels(max_pixels);
    for (auto& [name, command] : commands) {
      if (app.got_subcommand(name)) return command();
    }
  } catch (const std::exception& e) {
    std::cerr << "sightflow: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
