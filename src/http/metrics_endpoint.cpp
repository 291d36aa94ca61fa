#include "http/metrics_endpoint.hpp"

#include <httplib.h>
#include <openssl/crypto.h>

#include <stdexcept>

#include "http/bounded_server.hpp"
#include "http/http_json.hpp"
#include "http/listen.hpp"
#include "http/listen_security.hpp"

namespace sf {

namespace {

// A scrape server: a few threads, no bodies worth reading.
ConnectionLimits scrape_limits() {
  ConnectionLimits limits;
  limits.threads = 4;
  limits.max_body_bytes = 64 << 10;
  return limits;
}

bool sends_token(const httplib::Request& req, const std::string& token) {
  auto given = req.get_header_value("Authorization");
  auto expected = "Bearer " + token;
  // OpenSSL's compare takes the same time wherever the first difference is.
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

}  // namespace

MetricsEndpoint::MetricsEndpoint(const std::string& host, int port, std::function<std::string()> render,
                                 const std::string& token)
    : server_(make_bounded_server(scrape_limits())) {
  check_listen_security(host, token, "--metrics-token (or $SIGHTFLOW_TOKEN)");
  server_->set_tcp_nodelay(true);
  server_->Get("/metrics",
               [render = std::move(render), token](const httplib::Request& req, httplib::Response& res) {
                 if (!token.empty() && !sends_token(req, token))
                   return send_error(res, 401, "Unauthorized", "send Authorization: Bearer TOKEN");
                 try {
                   res.set_content(render(), "text/plain; version=0.0.4");
                 } catch (const std::exception& e) {
                   res.status = 503;  // e.g. Redis unreachable: a failed scrape, not made-up numbers
                   res.set_content(std::string("metrics unavailable: ") + e.what() + "\n", "text/plain");
                 }
               });
  set_json_error_handler(*server_, [](int status) -> std::string {
    return status == 404   ? "ResourceNotFoundException"
           : status == 413 ? "RequestEntityTooLargeException"
                           : "BadRequestException";
  });
  port_ = listen_in_background(*server_, host, port, thread_);
}

MetricsEndpoint::~MetricsEndpoint() {
  server_->stop();
  thread_.join();
}

}  // namespace sf
