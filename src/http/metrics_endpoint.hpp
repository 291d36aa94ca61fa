#pragma once
// A process's Prometheus endpoint: GET /metrics answers the text exposition format that `render` returns
// (called on the server's thread for every scrape). Used by `sightflow worker --metrics`.
//
// Beyond loopback it needs a token (listen_security.hpp), and then every scrape must send it
// (Authorization: Bearer TOKEN; Prometheus: `authorization: {credentials: TOKEN}`): the figures name
// streams, hosts and models.
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
  // Checks the address against the token rule (std::invalid_argument), binds HOST:PORT (port 0: any free
  // port) and serves on a thread; throws std::runtime_error naming the address when it cannot bind.
  MetricsEndpoint(const std::string& host, int port, std::function<std::string()> render,
                  const std::string& token = "");
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
