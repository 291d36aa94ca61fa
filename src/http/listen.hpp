#pragma once
// Listening, shared by every HTTP server of a process (the web server, the inference API, a worker's
// /metrics): bind, serve on a thread, and the HOST:PORT flag form.
#include <string>
#include <thread>
#include <utility>

namespace httplib {
class Server;
}

namespace sf {

// Binds `server` to HOST:PORT (port 0: any free port), serves it on `thread`, and returns once it accepts
// (so that a stop() right after reaches it). Returns the port; throws std::runtime_error naming the
// address and why it cannot bind ("127.0.0.1:8090 is already in use"). The port is not shared with
// another process (no SO_REUSEPORT) and the listen backlog is the kernel's largest (SOMAXCONN).
int listen_in_background(httplib::Server& server, const std::string& host, int port, std::thread& thread);

// "HOST:PORT" -> host, port; throws std::invalid_argument naming `flag` and the text.
std::pair<std::string, int> parse_listen_address(const std::string& text, const std::string& flag);

}  // namespace sf
