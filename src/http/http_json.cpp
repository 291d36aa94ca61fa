#include "http/http_json.hpp"

#include <httplib.h>

#include <cmath>

#include "http/bounded_server.hpp"

namespace sf {

void send_error(httplib::Response& res, int status, const std::string& type, const std::string& message) {
  res.status = status;
  if (status == 503) res.set_header("Retry-After", "1");
  nlohmann::json body = {{"code", status}, {"type", type}, {"message", message}};
  res.set_content(body.dump(), "application/json");
}

void send_json(httplib::Response& res, const nlohmann::ordered_json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void set_json_error_handler(httplib::Server& server, std::function<std::string(int status)> type_of) {
  server.set_error_handler(
      [type_of = std::move(type_of)](const httplib::Request& req, httplib::Response& res) {
        // cpp-httplib reports a chunked body cut off at the limit as malformed (400).
        if (request_body_over_limit() && res.status != 413) {
          res.status = 413;
          res.body.clear();
        }
        if (!res.body.empty()) return;
        std::string message = res.status == 413   ? "the request body is larger than the server's limit"
                              : res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                                                  : "the request could not be served";
        send_error(res, res.status, type_of(res.status), message);
      });
}

std::optional<double> query_number(const httplib::Request& req, const std::string& key) {
  if (!req.has_param(key.c_str())) return std::nullopt;
  auto text = req.get_param_value(key.c_str());
  try {
    size_t used = 0;
    double value = std::stod(text, &used);
    // "nan" and "inf" parse too, and slip past range checks (NaN compares false): a NaN `fps` lifted the
    // MJPEG cap and a NaN `limit` became no limit.
    if (used == text.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  throw HttpError(400, "BadRequestException", "parameter " + key + " is not a finite number: '" + text + "'");
}

}  // namespace sf
