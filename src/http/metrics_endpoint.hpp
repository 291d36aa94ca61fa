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

}  // namespace sf
