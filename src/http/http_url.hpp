#pragma once
// Plain-HTTP URLs for the HTTP clients (webhook sink, `sightflow top`). cpp-httplib is built here
// without OpenSSL, so https:// is refused up front with a reason instead of failing at the first request.
// Pure functions: safe from any thread.
#include <string>

namespace httplib {
enum class Error;
}

namespace sf {

struct HttpUrl {
  std::string host;  // without brackets for IPv6 literals
  int port = 80;
  std::string path = "/";  // always starts with '/'; includes any query string
};

// "http://host[:port][/path]" -> parts. Throws std::invalid_argument naming `what` and the text when the
// scheme is not http, the host is missing or the port is not 1..65535.
HttpUrl parse_http_url(const std::string& text, const std::string& what);

// A failed request's reason in words for logs and screens (httplib's own names, "Connection", say little).
std::string describe_http_error(httplib::Error error);

}  // namespace sf
