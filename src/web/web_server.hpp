#pragma once
// The engine's HTTP server (cpp-httplib): dashboard, MJPEG live video, REST API, Prometheus metrics and
// stream control (docs/WEB.md). Routes of other parts (the inference API) can be added to http().
//
// Threads: cpp-httplib serves each connection on a pool thread; an MJPEG viewer holds one for as long as
// it watches, so the pool is sized for viewers plus API calls. Nothing here runs on the inference path:
// the live view only keeps references, and frames are drawn and encoded on viewers' threads.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sightflow/store.hpp"
#include "web/live_view.hpp"
#include "web/stream_controller.hpp"

namespace httplib {
class Server;
}

namespace sf {

class PrometheusText;

struct WebOptions {
  std::string host = "127.0.0.1";
  int port = 8090;          // 0: any free port (see port())
  std::string token;        // needed by POST/DELETE routes; required to bind a non-loopback address
  double video_fps = 10;    // MJPEG frames per second per viewer, at most (a viewer may ask for fewer)
  int threads = 64;         // connections served at once (each MJPEG viewer holds one)
  std::string db;           // results store for counts, events and archived frames ("" none)
  std::string archive_dir;  // where archived frames are (the store holds paths relative to it)
  size_t max_body_bytes = 16 << 20;
};

// Throws std::invalid_argument when `host` is not a loopback address and `token` is empty.
void check_listen_security(const std::string& host, const std::string& token);
bool is_loopback(const std::string& host);

class WebServer {
 public:
  // Checks the address against the token rule; opens the store (read side) when options.db is set.
  WebServer(WebOptions options, LiveView& live, StreamController& streams);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  httplib::Server& http() { return *server_; }
  // More Prometheus text appended to /metrics (the inference API's, the bus's); its metric names must not
  // clash with the engine's.
  void add_metrics_text(std::function<std::string()> render);

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
  std::string metrics_text();
  void add_counting_metrics(PrometheusText& text);
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
  std::unique_ptr<Store> store_;
  std::mutex store_mutex_;
  std::vector<std::function<std::string()>> extra_metrics_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sf
