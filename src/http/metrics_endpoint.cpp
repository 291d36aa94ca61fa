#include "http/metrics_endpoint.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "http/listen.hpp"

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

}  // namespace sf
