#pragma once
// A URL's parts as RFC 3986 reads them, by libcurl's URL parser: the one reader behind every URL the
// program takes (http:// and https:// for webhooks and clients, redis://, the host of a stream's URL).
// Pure functions: safe from any thread.
#include <string>

namespace sf {

struct Url {
  std::string scheme;          // lower case
  std::string user, password;  // percent-decoded; "" when absent
  std::string host;            // IPv6 literals without brackets (a zone as "fe80::1%eth0")
  int port = 0;                // 0 when the URL names none
  std::string path = "/";      // as written (still percent-encoded); starts with '/'
  std::string query;           // after '?', without it; "" when none. A fragment is dropped.
};

// Throws std::invalid_argument saying what is wrong (no scheme, no host, a bad IPv6 literal, a port
// outside 1..65535, bad percent-encoding); the message does not repeat the text, which may hold a password.
Url parse_url(const std::string& text);

}  // namespace sf
