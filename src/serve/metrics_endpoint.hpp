#pragma once
// A process's Prometheus endpoint: GET /metrics answers the text exposition format that `render` returns
// (called on the server's thread for every scrape). Used by `sightflow worker --metrics`.
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace sf {

class MetricsEndpoint {
 public:
  // Binds HOST:PORT (port 0: any free port) and serves on a thread; throws std::runtime_error naming the
  // address when it cannot bind.
  MetricsEndpoint(const std::string& host, int port, std::function<std::string()> render);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// Binds `server` to HOST:PORT (port 0: any free port), serves it on `thread`, and returns once it accepts
// (so that a stop() right after reaches it). Returns the port; throws std::runtime_error naming the
// address when it cannot bind.
int listen_in_background(httplib::Server& server, const std::string& host, int port, std::thread& thread);

// "HOST:PORT" -> host, port; throws std::invalid_argument naming `flag` and the text.
std::pair<std::string, int> parse_listen_address(const std::string& text, const std::string& flag);

}  // namespace sf
