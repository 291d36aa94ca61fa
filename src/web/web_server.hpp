#pragma once
// The engine's HTTP server (cpp-httplib): dashboard, MJPEG live video, REST API, Prometheus metrics and
// stream control (docs/WEB.md). Routes of other parts (the inference API) can be added to http().
//
// Threads: cpp-httplib serves each request on a pool thread (a connection between requests holds none,
// http/bounded_server.hpp); an MJPEG viewer holds one for as long as it watches, so viewers are capped
// below the pool's size and API calls always find a thread. Nothing here runs on the inference path:
// the live view only keeps references, and frames are drawn and encoded on viewers' threads.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/guarded_routes.hpp"
#include "http/tls.hpp"
#include "pipeline/metrics_registry.hpp"
#include "sightflow/store.hpp"
#include "web/live_view.hpp"
#include "web/stream_controller.hpp"

namespace httplib {
class Server;
}

namespace sf {

struct WebOptions {
  std::string host = "127.0.0.1";
  int port = 8090;                // 0: any free port (see port())
  std::string token;              // needed by POST/DELETE routes; required to bind a non-loopback address
  double video_fps = 10;          // MJPEG frames per second per viewer, at most (a viewer may ask for fewer)
  int threads = 64;               // requests served at once (each MJPEG viewer holds one)
  int max_viewers = 0;            // MJPEG viewers at once, 503 beyond (0: half the threads); below `threads`
  double idle_timeout_s = 5;      // a kept-alive connection without a new request is closed after this
  double request_timeout_s = 10;  // a request's line and headers must arrive within this
  std::string db;                 // results store for counts, events and archived frames ("" none)
  std::string archive_dir;        // where archived frames are (the store holds paths relative to it)
  size_t max_body_bytes = 16 << 20;  // whatever the framing (Content-Length, chunked, multipart)
  TlsFiles tls;                      // certificate and key: serve https
};

class WebServer {
 public:
  // Checks the address against the token rule (http/listen_security.hpp) and the limits; opens the store
  // (read side) when options.db is set.
  WebServer(WebOptions options, LiveView& live, StreamController& streams);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  httplib::Server& http() { return *server_; }
  // Routes others add to http() that change the server declare themselves here to get the token check.
  GuardedRoutes& guarded_routes() { return guarded_; }
  // The process's registry behind /metrics, holding the pipelines' and the live view's figures; the
  // inference API and the bus add theirs.
  MetricsRegistry& metrics() { return metrics_; }

  void start();  // binds (throws std::runtime_error naming the address) and serves on a thread
  void stop();   // closes viewers' streams and the listener; idempotent
  int port() const { return port_; }
  std::string url() const;

 private:
  void routes();
  void dashboard_routes();
  void video_route();
  void api_routes();
  void frame_routes();
  // The algorithm a series shows when the request names none: the first the live view has, else the store's.
  std::string default_algorithm(const std::string& stream, const std::vector<std::string>& live);
  // Series from the store's roll-ups when it has points, else from the live view's memory.
  // Settles a series' clock ("auto": the stream's, from the store; "wall" without one) and, where the
  // request gave none, its bounds: the last 300 s of wall time, or the whole media timeline.
  void settle_clock(SeriesQuery& query);
  nlohmann::ordered_json counts(SeriesQuery query);
  nlohmann::ordered_json line_series(SeriesQuery query);
  nlohmann::ordered_json zone_series(SeriesQuery query);
  nlohmann::ordered_json events(const EventQuery& query);
  template <typename Read>
  auto read_store(Read&& read);  // runs read(store) under the store's mutex

  WebOptions options_;
  LiveView& live_;
  StreamController& streams_;
  std::unique_ptr<httplib::Server> server_;
  GuardedRoutes guarded_;
  std::unique_ptr<Store> store_;
  std::mutex store_mutex_;
  MetricsRegistry metrics_;
  std::shared_ptr<FamilySource> figures_;  // the pipelines' and the live view's
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> viewers_{0};  // MJPEG streams being served
};

}  // namespace sf
