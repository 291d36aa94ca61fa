#include "serve/metrics_endpoint.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace sf {

MetricsEndpoint::MetricsEndpoint(const std::string& host, int port, std::function<std::string()> render)
    : server_(std::make_unique<httplib::Server>()) {
  server_->set_tcp_nodelay(true);
  server_->Get("/metrics", [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
    try {
      res.set_content(render(), "text/plain; version=0.0.4");
    } catch (const std::exception& e) {
      res.status = 503;  // e.g. Redis unreachable: a failed scrape, not made-up numbers
      res.set_content(std::string("metrics unavailable: ") + e.what() + "\n", "text/plain");
    }
  });
  port_ = listen_in_background(*server_, host, port, thread_);
}

MetricsEndpoint::~MetricsEndpoint() {
  server_->stop();
  thread_.join();
}

int listen_in_background(httplib::Server& server, const std::string& host, int port, std::thread& thread) {
  int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0)
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) +
                             " (address in use, or not an address of this machine)");
  thread = std::thread([&server] { server.listen_after_bind(); });
  // httplib's stop() only reaches a server that is already in its accept loop: wait for it to get there.
  for (int i = 0; i < 5000 && !server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

std::pair<std::string, int> parse_listen_address(const std::string& text, const std::string& flag) {
  auto colon = text.rfind(':');
  try {
    if (colon == std::string::npos || colon == 0) throw std::invalid_argument(text);
    size_t used = 0;
    auto port_text = text.substr(colon + 1);
    int port = std::stoi(port_text, &used);
    if (used != port_text.size() || port < 0 || port > 65535) throw std::invalid_argument(text);
    return {text.substr(0, colon), port};
  } catch (const std::exception&) {
    throw std::invalid_argument(flag + " expects HOST:PORT, got '" + text + "'");
  }
}

}  // namespace sf
