#include "http/http_url.hpp"

#include <httplib.h>

#include <stdexcept>

#include "common/url.hpp"

namespace sf {

std::string HttpUrl::origin() const {
  bool ipv6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https" : "http") + "://" + (ipv6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

HttpUrl parse_http_url(const std::string& text, const std::string& what) {
  auto fail = [&](const std::string& problem) {
    throw std::invalid_argument(what + " '" + text + "': " + problem);
  };
  Url url;
  try {
    url = parse_url(text);
  } catch (const std::invalid_argument& e) {
    fail(std::string(e.what()) + " (expected http[s]://HOST[:PORT][/PATH])");
  }
  if (url.scheme != "http" && url.scheme != "https")
    fail("unsupported scheme '" + url.scheme + "' (expected http[s]://HOST[:PORT][/PATH])");
  if (!url.user.empty() || !url.password.empty()) fail("user names in URLs are not supported");

  HttpUrl http;
  http.tls = url.scheme == "https";
  http.host = url.host;
  http.port = url.port != 0 ? url.port : http.tls ? 443 : 80;
  http.path = url.query.empty() ? url.path : url.path + "?" + url.query;
  return http;
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
    case httplib::Error::SSLConnection:
      return "TLS handshake failed (does the server speak https on that port?)";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates to check the server's";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate was refused";
    default:
      return httplib::to_string(error);
  }
}

}  // namespace sf
