// `sightflow serve`: the catalog's models over HTTP for edge clients (TorchServe's inference API).
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "serve/inference_server.hpp"
#include "serve/metrics_endpoint.hpp"

namespace sf::cli {
namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  size_t max_body_mb = 16;
  size_t max_queue = 64;
  int threads = 64;
  std::vector<std::string> preload;
};

int serve(const ServeFlags& f) {
  ServerOptions options;
  std::tie(options.host, options.port) = parse_listen_address(f.listen, "--listen");
  options.max_body_bytes = f.max_body_mb << 20;
  options.threads = f.threads;
  InferenceService service(f.max_queue);
  for (const auto& name : f.preload) service.register_model(name);
  InferenceServer server(service, options);
  server.start();
  spdlog::info("serve: inference API on http://{}:{} ({} models; POST /predictions/MODEL)", options.host,
               server.port(), service.model_names().size());
  std::mutex mutex;
  std::condition_variable cv;
  bool stop = false;
  InterruptWatch interrupt_watch([&] {
    std::lock_guard lock(mutex);
    stop = true;
    cv.notify_all();
  });
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return stop; });
  spdlog::info("serve: stopping");
  server.stop();
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Serve the catalog's models over HTTP (TorchServe inference API)");
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
  cmd->add_option("--preload", f.preload, "load these models at start instead of on their first request");
  return [flags] { return serve(*flags); };
}

}  // namespace sf::cli
