#include "http/listen.hpp"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace sf {

namespace {

std::string address_text(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// cpp-httplib only says that binding failed: bind a socket of our own the same way to learn why.
std::string bind_failure(const std::string& host, int port) {
  auto address = address_text(host, port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int status =
          getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(), &hints, &found);
      status != 0)
    return "cannot listen on " + address + ": " + gai_strerror(status);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  int error = 0;
  for (const auto* a = found; a; a = a->ai_next) {
    int sock = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (sock < 0) {
      error = errno;
      continue;
    }
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    bool bound = ::bind(sock, a->ai_addr, a->ai_addrlen) == 0;
    if (!bound) error = errno;
    ::close(sock);
    if (bound) return "cannot listen on " + address + " (it was busy a moment ago)";
  }
  if (error == EADDRINUSE) return address + " is already in use";
  if (error == EADDRNOTAVAIL) return "cannot listen on " + address + ": not an address of this machine";
  return "cannot listen on " + address + ": " + std::strerror(error);
}

}  // namespace

int listen_in_background(httplib::Server& server, const std::string& host, int port, std::thread& thread) {
  auto listener = std::make_shared<int>(-1);
  server.set_socket_options([listener](socket_t sock) {
    // SO_REUSEADDR lets a restart bind while the last run's connections linger in TIME_WAIT. Not
    // SO_REUSEPORT, cpp-httplib's default: with it a second process binds the same port and the two
    // answer in turn.
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    *listener = sock;
  });
  int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) throw std::runtime_error(bind_failure(host, port));
  // Debian's cpp-httplib is built with a listen backlog of 5: connections beyond it wait for SYN retries.
  // listen() again on the bound socket sets the kernel's largest.
  if (*listener >= 0 && ::listen(*listener, SOMAXCONN) != 0)
    throw std::runtime_error("cannot listen on " + address_text(host, bound) + ": " + std::strerror(errno));
  thread = std::thread([&server] { server.listen_after_bind(); });
  // httplib's stop() only reaches a server that is already in its accept loop: wait for it to get there.
  for (int i = 0; i < 5000 && !server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

std::pair<std::string, int> parse_listen_address(const std::string& text, const std::string& flag) {
  auto colon = text.rfind(':');
  try {
    if (colon == std::string::npos || colon == 0) throw std::invalid_argument(text);
    size_t used = 0;
    auto port_text = text.substr(colon + 1);
    int port = std::stoi(port_text, &used);
    if (used != port_text.size() || port < 0 || port > 65535) throw std::invalid_argument(text);
    return {text.substr(0, colon), port};
  } catch (const std::exception&) {
    throw std::invalid_argument(flag + " expects HOST:PORT, got '" + text + "'");
  }
}

}  // namespace sf
