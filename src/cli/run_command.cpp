// `sightflow run`: sources -> detector(s) on a schedule -> JSONL, annotated video, summary.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "cli/algorithm_flags.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/progress.hpp"
#include "cli/source_flags.hpp"
#include "cli/web_flags.hpp"
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
  std::string out, video_out, events_out, mot_out, summary_json;
  std::string db, archive_dir;
  int archive_every = 0;
  bool archive_annotated = false;
  double stats_interval = 5;
  std::string serve;
  WebFlags web;
  WebhookFlags webhook;
};

// --archive DIR [--archive-every N] [--archive-annotated]: the store sink's archive options.
void apply_archive_flags(const RunFlags& f, RunConfig& c) {
  if (f.archive_dir.empty()) return;
  auto db = c.sinks.object_options("db", "path");
  if (db.empty())
    throw ConfigError("a frame archive needs a results store (sinks.db / --db) to index its files");
  auto& archive = db["archive"];
  archive["dir"] = f.archive_dir;
  archive["keep_every"] = f.archive_every;
  archive["annotated"] = f.archive_annotated;
  c.sinks.set("db", db);
}

// A file sink's flag, when given.
void apply_path(RunConfig& c, const std::string& type, const std::string& path) {
  if (!path.empty()) c.sinks.set(type, path);
}

void apply_analysis_outputs(const RunFlags& f, RunConfig& c) {
  apply_path(c, "events", f.events_out);
  apply_path(c, "mot", f.mot_out);
}

RunConfig config_from_flags(const RunFlags& f, bool embedded_default) {
  RunConfig c;
  c.mode = parse_mode(f.mode);
  c.max_frames = f.source.max_frames;
  c.stats_interval = f.stats_interval;
  c.streams = f.source.streams(SIGHTFLOW_DEFAULT_VIDEO);
  AlgorithmConfig a = f.algorithm.config();
  a.schedule = {f.frame_count, f.frame_step, f.interval};
  c.algorithms.push_back(a);
  apply_path(c, "jsonl", f.out.empty() ? "sightflow-out/results.jsonl" : f.out);
  apply_path(c, "video",
             f.video_out.empty() && embedded_default ? "sightflow-out/annotated.mp4" : f.video_out);
  apply_path(c, "db", f.db.empty() && embedded_default ? "sightflow-out/sightflow.db" : f.db);
  apply_archive_flags(f, c);
  apply_analysis_outputs(f, c);
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
    if (cmd.count("--out")) config.sinks.set("jsonl", f.out);
    if (cmd.count("--video-out")) config.sinks.set("video", f.video_out);
    if (cmd.count("--db")) {
      // The path changes; a config's retention and archive stay.
      auto db = config.sinks.object_options("db", "path");
      db["path"] = f.db;
      config.sinks.set("db", db);
    }
    auto added_stages = f.algorithm.stage_specs();
    for (auto& a : config.algorithms) {
      f.algorithm.apply_overrides(a);
      a.stages.insert(a.stages.end(), added_stages.begin(), added_stages.end());
    }
    apply_archive_flags(f, config);
    apply_analysis_outputs(f, config);
    apply_webhook_flags(cmd, f.webhook, config.sinks);
    validate(config);
    if (cmd.count("--stats-interval")) config.stats_interval = f.stats_interval;
  } else {
    config = config_from_flags(f, f.source.sources.empty());
    apply_webhook_flags(cmd, f.webhook, config.sinks);
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
  }
  double seconds = wall.seconds();
  std::cerr << format_summary(pipeline.metrics(), seconds);
  if (!f.summary_json.empty()) {
    auto j = pipeline.metrics().to_json(steady_now());
    j["wall_seconds"] = seconds;
    j["mode"] = to_string(config.mode);
    j["error"] = error;
    std::ofstream(f.summary_json) << j.dump(2) << "\n";
  }
  if (!error.empty()) std::cerr << "sightflow: error: " << error << "\n";
  if (web) {
    controller->finished(pipeline, error);
    if (!interrupted) {
      spdlog::info("run finished; still serving {}/ (Ctrl-C to exit)", web->url());
      wait_for_interrupt();
    }
    web->stop();
  }
  return error.empty() ? 0 : 2;
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
  cmd->add_option("--out", f.out,
                  "JSON Lines results file, '-' for stdout (default sightflow-out/results.jsonl)");
  cmd->add_option("--video-out", f.video_out, "annotated video file (.mp4, .mkv, .avi)");
  cmd->add_option("--events-out", f.events_out,
                  "events (line crossings, zone enter/exit/loiter) as JSON Lines");
  cmd->add_option("--mot-out", f.mot_out, "tracks as MOTChallenge text (frame,id,x,y,w,h,score,-1,-1,-1)");
  cmd->add_option("--db", f.db,
                  "results store: SQLite file or postgresql:// URL (default with no --source: "
                  "sightflow-out/sightflow.db)");
  cmd->add_option("--archive", f.archive_dir, "keep analysed frames with detections as JPEG in this folder");
  cmd->add_option("--archive-every", f.archive_every, "also keep every Nth analysed frame without detections")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--archive-annotated", f.archive_annotated, "also keep an annotated copy of archived frames");
  add_webhook_flags(*cmd, f.webhook);
  cmd->add_option("--summary-json", f.summary_json, "write the end-of-run metrics as JSON to this file");
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
