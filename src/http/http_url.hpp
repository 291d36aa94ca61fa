#pragma once
// http:// and https:// URLs for the HTTP clients (webhook sink, `sightflow client`, `sightflow top`), read
// by the one URL parser (common/url) and checked up front, so a bad URL fails with a reason before the
// first request. Pure functions: safe from any thread.
#include <string>

namespace httplib {
enum class Error;
}

namespace sf {

struct HttpUrl {
  bool tls = false;        // https
  std::string host;        // without brackets for IPv6 literals
  int port = 80;           // 443 for https unless the URL names one
  std::string path = "/";  // always starts with '/'; includes any query string

  // "SCHEME://HOST:PORT" (brackets around IPv6 literals), the form httplib::Client takes.
  std::string origin() const;
};

// "http[s]://host[:port][/path]" -> parts. Throws std::invalid_argument naming `what` and the text when the
// scheme is neither http nor https, the URL has a user name, the host is missing or the port is not
// 1..65535.
HttpUrl parse_http_url(const std::string& text, const std::string& what);

// A failed request's reason in words for logs and screens (httplib's own names, "Connection", say little).
// For why a TLS connection failed, see describe_request_error (http/tls.hpp).
std::string describe_http_error(httplib::Error error);

}  // namespace sf
