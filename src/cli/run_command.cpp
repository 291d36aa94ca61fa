// `sightflow run`: sources -> detector(s) on a schedule -> JSONL, annotated video, summary.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "cli/algorithm_flags.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/output_flags.hpp"
#include "cli/progress.hpp"
#include "cli/run_outcome.hpp"
#include "cli/source_flags.hpp"
#include "cli/summary_json.hpp"
#include "cli/web_flags.hpp"
#include "media/image_probe.hpp"
#include "sightflow/config.hpp"
#include "store/store_sink_options.hpp"

namespace sf::cli {
namespace {

struct RunFlags {
  std::string config;
  SourceFlags source;
  AlgorithmFlags algorithm;
  std::string mode = "offline";
  bool no_progress = false;
  int frame_count = 1, frame_step = 1;
  double interval = 0;
  OutputFlags output;
  std::string summary_json;
  double stats_interval = 5;
  std::string serve;
  WebFlags web;
};

RunConfig config_from_flags(const RunFlags& f, const CLI::App& cmd, bool embedded_default) {
  RunConfig c;
  c.mode = parse_mode(f.mode);
  c.max_frames = f.source.max_frames;
  c.stats_interval = f.stats_interval;
  c.streams = f.source.streams(SIGHTFLOW_DEFAULT_VIDEO);
  AlgorithmConfig a = f.algorithm.config();
  a.schedule = {f.frame_count, f.frame_step, f.interval};
  c.algorithms.push_back(a);
  f.output.fill(cmd, c.sinks, embedded_default);
  validate(c);
  return c;
}

int run(const RunFlags& f, CLI::App& cmd) {
  RunConfig config;
  if (!f.config.empty()) {
    auto described = SourceFlags::stream_flag_names();
    for (const auto& flag : AlgorithmFlags::model_flag_names()) described.push_back(flag);
    for (const char* flag : {"--frame-step", "--frame-count", "--interval", "--algo-name"})
      described.push_back(flag);
    for (const auto& flag : described) {
      if (cmd.count(flag)) throw std::invalid_argument(flag + " cannot be combined with --config");
    }
    config = load_run_config(f.config);
    if (cmd.count("--mode")) config.mode = parse_mode(f.mode);
    if (cmd.count("--max-frames")) config.max_frames = f.source.max_frames;
    auto added_stages = f.algorithm.stage_specs();
    for (auto& a : config.algorithms) {
      f.algorithm.apply_overrides(a);
      a.stages.insert(a.stages.end(), added_stages.begin(), added_stages.end());
    }
    f.output.override(cmd, config.sinks);
    validate(config);
    if (cmd.count("--stats-interval")) config.stats_interval = f.stats_interval;
    if (config.max_pixels > 0 && !cmd.get_parent()->count("--max-pixels"))
      set_max_image_pixels(config.max_pixels);
  } else {
    config = config_from_flags(f, cmd, f.source.sources.empty());
    validate(config);
  }

  Pipeline pipeline(pipeline_options(config));
  populate(pipeline, config);
  std::map<std::string, std::string> sources;
  for (const auto& s : config.streams) {
    auto name = s.options.name.empty() ? default_stream_name(s.source) : s.options.name;
    sources[name] = s.source;
    spdlog::info("stream {} <- {}", name, s.source);
  }
  // --serve: the web server shows this run's streams; streams started from its API run beside them.
  std::unique_ptr<LiveView> live;
  std::unique_ptr<StreamController> controller;
  std::unique_ptr<WebServer> web;
  if (!f.serve.empty()) {
    auto options = web_options(f.web, f.serve, "--serve");
    if (const auto* db = config.sinks.find("db")) {
      auto store = read_store_sink_options(db->options);
      options.db = store.location;
      options.archive_dir = store.options.archive_dir;
    }
    live = std::make_unique<LiveView>(80, options.video_fps);
    pipeline.add_sink(live->make_sink());
    // Streams started from the API write to the run's store and webhook (not to its files).
    ControllerOptions shared;
    shared.sources = f.web.sources;
    for (const char* type : {"db", "webhook"})
      if (const auto* spec = config.sinks.find(type)) shared.sinks.specs.push_back(*spec);
    controller = std::make_unique<StreamController>(*live, std::move(shared));
    web = std::make_unique<WebServer>(options, *live, *controller);
  }
  for (const auto& sink : config.sinks.specs)
    spdlog::info("sink {} -> {}", sink.type,
                 sink.options.is_string() ? sink.options.get<std::string>() : sink.options.dump());

  Stopwatch wall;
  pipeline.start();
  if (web) {
    controller->adopt(pipeline, sources, config.mode);
    web->start();
    spdlog::info("web: dashboard on {}/", web->url());
  }
  bool interrupted = false;
  bool bar = !f.no_progress && ::isatty(STDERR_FILENO);
  double stats = config.mode == Mode::Realtime ? config.stats_interval : 0;
  std::string error;
  {
    InterruptWatch interrupt_watch([&] {
      spdlog::warn("interrupted: finishing queued runs and closing outputs");
      interrupted = true;
      pipeline.stop();
    });
    ProgressReporter progress(pipeline, bar, stats);
    try {
      pipeline.wait();
    } catch (const std::exception& e) {
      error = e.what();
    }
    progress.finish(!interrupted && error.empty());
  }
  double seconds = wall.seconds();
  std::cerr << format_summary(pipeline.metrics(), seconds);
  const std::string all_failed = error.empty() ? every_run_failed(pipeline.metrics()) : "";
  if (!f.summary_json.empty()) {
    auto j = pipeline.metrics().to_json(steady_now());
    j["wall_seconds"] = seconds;
    j["mode"] = to_string(config.mode);
    j["error"] = error.empty() ? all_failed : error;
    try {
      write_summary_json(f.summary_json, j);
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
    }
  }
  if (!error.empty() || !all_failed.empty())
    std::cerr << "sightflow: error: " << (error.empty() ? all_failed : error) << "\n";
  if (web) {
    controller->finished(pipeline, error.empty() ? all_failed : error);
    if (!interrupted) {
      spdlog::info("run finished; still serving {}/ (Ctrl-C to exit)", web->url());
      wait_for_interrupt();
    }
    web->stop();
  }
  if (!error.empty()) return 2;
  return all_failed.empty() ? 0 : kExitEveryRunFailed;
}

}  // namespace

ModelParams parse_params(const std::vector<std::string>& flags) {
  ModelParams params;
  for (const auto& p : flags) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--param expects NAME=VALUE, got '" + p + "'");
    params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return params;
}

Command add_run_command(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "Decode sources and run detectors on a schedule; write results");
  auto& f = *flags;
  cmd->add_option("--config", f.config, "YAML file with streams, algorithms and sinks (see docs/CONFIG.md)");
  f.source.add_to(*cmd, true);
  f.algorithm.add_to(*cmd);
  cmd->add_option("--mode", f.mode, "offline (every frame, backpressure) or realtime (source pace, drop)")
      ->check(CLI::IsMember({"offline", "realtime"}))
      ->capture_default_str();
  cmd->add_option("--frame-count", f.frame_count, "frames each run receives")->capture_default_str();
  cmd->add_option("--frame-step", f.frame_step, "take one frame every N")->capture_default_str();
  cmd->add_option("--interval", f.interval, "run at most every N seconds of media time")
      ->capture_default_str();
  f.output.add_to(*cmd);
  cmd->add_option("--summary-json", f.summary_json,
                  "write the end-of-run metrics as JSON to this file (- for stdout)");
  cmd->add_option("--stats-interval", f.stats_interval,
                  "seconds between stats lines in realtime mode (0: off)")
      ->capture_default_str();
  cmd->add_flag("--no-progress", f.no_progress, "no progress bar");
  cmd->add_option(
      "--serve", f.serve,
      "serve the dashboard, live video, API and /metrics on HOST:PORT (e.g. 127.0.0.1:8090) while "
      "running, and after the run until Ctrl-C");
  add_web_flags(*cmd, f.web);
  return [flags, cmd] { return run(*flags, *cmd); };
}

}  // namespace sf::cli
