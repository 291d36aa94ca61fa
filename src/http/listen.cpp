#include "http/listen.hpp"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

namespace sf {

int listen_in_background(httplib::Server& server, const std::string& host, int port, std::thread& thread) {
  int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0)
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) +
                             " (address in use, or not an address of this machine)");
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
