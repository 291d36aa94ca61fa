#include "http/listen_security.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <stdexcept>

namespace sf {

namespace {

bool is_loopback_address(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    auto ip = ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
    return (ip >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const auto& ip = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&ip)) return true;
    return IN6_IS_ADDR_V4MAPPED(&ip) && ip.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

bool resolves_to_loopback_only(const std::string& host) {
  if (host.empty()) return false;  // cpp-httplib binds an empty host to every address
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return false;
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  for (const auto* a = found; a; a = a->ai_next)
    if (!is_loopback_address(a->ai_addr)) return false;
  return found != nullptr;
}

void check_listen_security(const std::string& host, const std::string& token, const std::string& token_hint) {
  if (!token.empty() || resolves_to_loopback_only(host)) return;
  throw std::invalid_argument("refusing to listen on " + host +
                              " without a token: it is not (or does not resolve only to) a loopback "
                              "address; give " +
                              token_hint + ", or listen on 127.0.0.1");
}

}  // namespace sf
