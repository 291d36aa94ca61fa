#pragma once
// `sightflow serve`: the inference API over HTTP (cpp-httplib), following TorchServe's so that its clients
// work unchanged:
//   GET  /ping                          {"status": "Healthy"}
//   POST /predictions/{model}           a raw image -> its result; a JSON array of base64 images or a
//                                       multipart form -> a list of results in the same order
//   GET  /models                        {"models": [{"modelName", "modelUrl"}]}
//   GET  /models/{model}                settings (batchSize, maxBatchDelay, workers) and batch statistics
//   POST /models?model_name=M&batch_size=B&max_batch_delay=MS&initial_workers=K   (re)register; send a
//                                       Content-Length (curl -d ''): cpp-httplib 0.11 rejects a POST without
// A raw image needs Content-Type image/* or application/octet-stream: cpp-httplib caps bodies sent as
// application/x-www-form-urlencoded (curl's default for --data-binary) at 8 KiB.
//   GET  /metrics                       Prometheus text (serve_metrics.hpp): requests by model and status,
//                                       their durations, batch sizes
// Errors are JSON {"code", "type", "message"} with the status: 400 bad image or parameter, 404 unknown
// model or path, 413 body too large, 503 queue full (with Retry-After), 500 otherwise.
#include <memory>
#include <string>
#include <thread>

#include "pipeline/metrics_registry.hpp"
#include "serve/inference_service.hpp"
#include "serve/serve_metrics.hpp"

namespace httplib {
class Server;
}

namespace sf {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see port())
  size_t max_body_bytes = 16 << 20;
  int threads = 64;  // connections served at once (keep-alive clients hold one each)
};

class InferenceServer {
 public:
  InferenceServer(InferenceService& service, ServerOptions options);
  // Adds the inference routes (all but /metrics: the owner adds metrics() to its registry) to a server
  // owned by someone else (the web server of `sightflow serve`); start() and stop() then do nothing.
  InferenceServer(InferenceService& service, httplib::Server& shared);
  ~InferenceServer();
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  // Binds (throws std::runtime_error naming the address when it cannot) and serves on a thread.
  void start();
  void stop();
  int port() const { return port_; }
  std::shared_ptr<const prometheus::Collectable> metrics() const { return metrics_; }

 private:
  void routes(bool standalone);

  InferenceService& service_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> own_server_;
  httplib::Server* server_ = nullptr;
  std::thread thread_;
  int port_ = 0;
  std::shared_ptr<ServeMetrics> metrics_;
  std::unique_ptr<MetricsRegistry> own_registry_;  // standalone: this process's /metrics
};

}  // namespace sf
