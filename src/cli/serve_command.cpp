// `sightflow serve`: the web server (dashboard, live video, REST API, metrics, streams started from the
// API, and with --redis the streams of other machines) with the catalog's models for edge clients
// (TorchServe's inference API) on the same port.
#include <spdlog/spdlog.h>

#include "bus/redis_url.hpp"
#include "cli/bus_flags.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/output_flags.hpp"
#include "cli/web_flags.hpp"
#include "serve/inference_server.hpp"
#include "web/redis_feed.hpp"

namespace sf::cli {
namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  size_t max_body_mb = 16;
  size_t max_queue = 64;
  int threads = 64;
  std::vector<std::string> preload;
  std::string redis, db, archive_dir;
  FrameDecodeOptions spill;  // where frames sent by path are shown from (--redis)
  WebFlags web;
  WebhookFlags webhook;
};

// What streams started from the API write to besides the live view: the store (with its archive) and
// the webhook.
SinkConfig shared_sinks(const ServeFlags& f, const CLI::App& cmd) {
  SinkConfig sinks;
  if (!f.db.empty()) {
    nlohmann::json db = {{"path", f.db}};
    if (!f.archive_dir.empty()) db["archive"] = {{"dir", f.archive_dir}};
    sinks.set("db", db);
  } else if (!f.archive_dir.empty()) {
    throw std::invalid_argument("--archive needs --db (the store indexes the archived frames)");
  }
  apply_webhook_flags(cmd, f.webhook, sinks);
  for (const auto& spec : sinks.specs) check_sink_options(spec);  // a bad URL fails now, not at each start
  return sinks;
}

// --preload MODEL, or NAME=MODEL to serve a catalog model under another name (as TorchServe's
// `--models resnet-18=resnet-18.mar`, a flag name that is the model folder here; a .mar suffix is dropped).
Registration preload_registration(const std::string& spec) {
  Registration r;
  auto equals = spec.find('=');
  r.model = model_of_url(equals == std::string::npos ? spec : spec.substr(equals + 1));
  r.name = equals == std::string::npos ? r.model : spec.substr(0, equals);
  r.at_startup = true;
  return r;
}

int serve(const ServeFlags& f, const CLI::App& cmd) {
  auto options = web_options(f.web, f.listen, "--listen");
  LiveView live(80, options.video_fps);
  StreamController streams(live, ControllerOptions{shared_sinks(f, cmd), f.web.sources});
  options.threads = f.threads;
  options.max_body_bytes = f.max_body_mb << 20;
  options.db = f.db;
  options.archive_dir = f.archive_dir;
  WebServer web(options, live, streams);
  InferenceService service(f.max_queue);
  for (const auto& spec : f.preload) service.register_model(preload_registration(spec));
  InferenceServer inference(service, web.http(), web.guarded_routes());
  web.metrics().add(inference.metrics());
  std::unique_ptr<RedisFeed> feed;
  std::shared_ptr<FamilySource> bus_figures;
  if (!f.redis.empty()) {
    feed = std::make_unique<RedisFeed>(parse_redis_url(f.redis), live, 2.0, f.spill);
    bus_figures = std::make_shared<FamilySource>([&feed](MetricFamilies& out) { feed->add_metrics(out); });
    web.metrics().add(bus_figures);
  }
  web.start();
  spdlog::info("serve: dashboard on {}/ ; inference API: POST {}/predictions/MODEL ({} models){}", web.url(),
               web.url(), service.model_names().size(), feed ? "; following streams in " + f.redis : "");
  wait_for_interrupt();
  spdlog::info("serve: stopping");
  web.stop();
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve",
                                 "Web server: dashboard, live video, REST API, metrics, stream control, and "
                                 "the catalog's models (TorchServe inference API)");
  auto& f = *flags;
  cmd->add_option("--listen", f.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--max-body-mb", f.max_body_mb, "largest request body, MiB (413 above)")
      ->capture_default_str();
  cmd->add_option("--max-queue", f.max_queue, "images waiting per model before requests get 503")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--threads", f.threads, "connections served at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--preload", f.preload,
                  "load these models at start instead of on their first request; NAME=MODEL serves a "
                  "catalog model under another name");
  cmd->add_option("--redis", f.redis,
                  "show the streams other machines capture and infer in this Redis (redis://host:port)");
  add_spill_read_flags(*cmd, f.spill);
  add_db_flag(*cmd, f.db, "counts over time, archived frames; streams started here write to it");
  cmd->add_option("--archive", f.archive_dir, "frame archive folder of that store");
  add_web_flags(*cmd, f.web);
  add_webhook_flags(*cmd, f.webhook);
  return [flags, cmd] { return serve(*flags, *cmd); };
}

}  // namespace sf::cli
