#include "web_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace sf::test {

WebProcess::WebProcess(std::vector<std::string> args, const std::string& listen_flag, const TempDir& dir,
                       const std::string& name)
    : port_(free_tcp_port()), log_((dir / (name + ".log")).string()) {
  std::vector<std::string> argv{sightflow_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(listen_flag);
  argv.push_back("127.0.0.1:" + std::to_string(port_));
  process_ = std::make_unique<ChildProcess>(argv, "/dev/null", log_);
  auto c = client();
  for (int i = 0; i < 600; ++i) {
    if (auto res = c.Get("/api/streams"); res && res->status == 200) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("the web server did not answer /api/streams; its log:\n" + read_file(log_));
}

httplib::Client WebProcess::client() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(30, 0);
  return c;
}

}  // namespace sf::test
