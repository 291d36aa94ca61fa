#include "common/url.hpp"

#include <curl/curl.h>

#include <memory>
#include <stdexcept>

namespace sf {

namespace {

using CurlUrl = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

// One part of a parsed URL; "" when the URL has none.
std::string part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  char* value = nullptr;
  CURLUcode rc = curl_url_get(url, which, &value, flags);
  if (rc == CURLUE_OK) {
    std::string text = value;
    curl_free(value);
    return text;
  }
  switch (rc) {
    case CURLUE_NO_USER:
    case CURLUE_NO_PASSWORD:
    case CURLUE_NO_PORT:
    case CURLUE_NO_QUERY:
    case CURLUE_NO_ZONEID:
      return "";
    default:
      throw std::invalid_argument(curl_url_strerror(rc));
  }
}

}  // namespace

Url parse_url(const std::string& text) {
  // libcurl forgives "http:///path" by reading "path" as the host; here it is what it looks like.
  auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0)
    throw std::invalid_argument("expected SCHEME://HOST...");
  if (text.compare(scheme_end + 3, 1, "/") == 0) throw std::invalid_argument("missing host");

  CurlUrl handle(curl_url(), &curl_url_cleanup);
  if (!handle) throw std::runtime_error("out of memory parsing a URL");
  // Any scheme: libcurl knows http and rtsp, not redis.
  CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME);
  if (rc == CURLUE_NO_HOST) throw std::invalid_argument("missing host");
  if (rc != CURLUE_OK) throw std::invalid_argument(curl_url_strerror(rc));

  Url url;
  url.scheme = part(handle.get(), CURLUPART_SCHEME);  // libcurl lower-cases it
  url.user = part(handle.get(), CURLUPART_USER, CURLU_URLDECODE);
  url.password = part(handle.get(), CURLUPART_PASSWORD, CURLU_URLDECODE);
  url.host = part(handle.get(), CURLUPART_HOST);
  if (url.host.size() >= 2 && url.host.front() == '[' && url.host.back() == ']')
    url.host = url.host.substr(1, url.host.size() - 2);
  if (auto zone = part(handle.get(), CURLUPART_ZONEID); !zone.empty()) url.host += "%" + zone;
  if (url.host.empty()) throw std::invalid_argument("missing host");
  if (auto port = part(handle.get(), CURLUPART_PORT); !port.empty()) {
    url.port = std::stoi(port);  // libcurl has checked it is a number 0..65535
    if (url.port == 0) throw std::invalid_argument("port 0 cannot be connected to (expected 1..65535)");
  }
  url.path = part(handle.get(), CURLUPART_PATH);
  if (url.path.empty() || url.path.front() != '/') url.path = "/" + url.path;
  url.query = part(handle.get(), CURLUPART_QUERY);
  return url;
}

}  // namespace sf
