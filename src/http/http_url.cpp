#include "http/http_url.hpp"

#include <httplib.h>

#include <stdexcept>

namespace sf {

HttpUrl parse_http_url(const std::string& text, const std::string& what) {
  auto fail = [&](const std::string& problem) {
    throw std::invalid_argument(what + " '" + text + "': " + problem);
  };
  auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) fail("expected http://HOST[:PORT][/PATH]");
  auto scheme = text.substr(0, scheme_end);
  if (scheme == "https")
    fail("https is not supported (this build's HTTP client has no TLS); use http:// or a local proxy");
  if (scheme != "http") fail("unsupported scheme '" + scheme + "' (expected http://HOST[:PORT][/PATH])");

  HttpUrl url;
  auto rest = text.substr(scheme_end + 3);
  auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  if (slash != std::string::npos) url.path = rest.substr(slash);
  if (url.path.front() != '/') url.path = "/" + url.path;
  if (authority.find('@') != std::string::npos) fail("user names in URLs are not supported");

  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string::npos) fail("unclosed '[' in the host");
    url.host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail("expected ':PORT' after the host");
      port_text = after.substr(1);
      if (port_text.empty()) fail("empty port");
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) fail("empty port");
    }
  }
  if (url.host.empty()) fail("missing host");
  if (!port_text.empty()) {
    size_t used = 0;
    int port = 0;
    try {
      port = std::stoi(port_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != port_text.size() || port < 1 || port > 65535)
      fail("port must be a number 1..65535, got '" + port_text + "'");
    url.port = port;
  }
  return url;
}

std::string describe_http_error(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed (refused, unreachable or timed out)";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no answer (the connection closed or the read timed out)";
    case httplib::Error::Write:
      return "sending failed (the connection closed or the write timed out)";
    case httplib::Error::Canceled:
      return "canceled";
    default:
      return httplib::to_string(error);
  }
}

}  // namespace sf
