#pragma once
// The inference API of `sightflow serve`, routes on the process's web server (cpp-httplib), following
// TorchServe's inference and management APIs so that its clients and documented curl commands work
// unchanged:
//   GET  /ping                                 {"status": "Healthy"}
//   POST|PUT /predictions/{model}[/{version}]  a raw image (any content type) -> its result; JSON base64
//                                              images (an array, or an object {"0": ..., "1": ...}) or
//                                              multipart parts -> a list of results in the same order
//   GET  /models                               {"models": [{"modelName", "modelUrl"}]} (limit,
//                                              next_page_token)
//   GET  /models/{model}[/{version}|/all]      TorchServe's description, plus batch statistics
//   POST /models?url=M&model_name=N&batch_size=B&max_batch_delay=MS&initial_workers=K   (re)register
//   PUT  /models/{model}[/{version}]?min_worker=N                                      scale workers
//   DELETE /models/{model}[/{version}]                                                 unregister
// The management routes change the server: they are declared guarded (the web server's token).
// Errors are JSON {"code", "type", "message"} with the status: 400 bad image or parameter, 404 unknown
// model or version, 409 a name taken, 413 body or request too large, 503 queue full or no worker (with
// Retry-After), 500 otherwise.
#include <memory>
#include <string>

#include "pipeline/metrics_registry.hpp"
#include "serve/inference_service.hpp"
#include "serve/serve_metrics.hpp"

namespace httplib {
class Server;
}

namespace sf {

class GuardedRoutes;

class InferenceServer {
 public:
  // Adds the routes to `server` (owned by the web server) and declares the management ones in `guarded`.
  InferenceServer(InferenceService& service, httplib::Server& server, GuardedRoutes& guarded);
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  // Requests by model and status, their durations, batch sizes: the owner adds it to its registry.
  std::shared_ptr<const prometheus::Collectable> metrics() const { return metrics_; }

 private:
  void prediction_routes(httplib::Server& server);
  void management_routes(httplib::Server& server, GuardedRoutes& guarded);

  InferenceService& service_;
  std::shared_ptr<ServeMetrics> metrics_;
};

}  // namespace sf
