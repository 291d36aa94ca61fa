#pragma once
// A `sightflow` process that serves the web server (run --serve, or serve), on a free port of 127.0.0.1,
// started by the test and killed at the end; the constructor returns once /api/streams answers.
#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace sf::test {

class WebProcess {
 public:
  // `args`: the subcommand and its flags without the listen address, e.g. {"run", "--detector", "hog"};
  // `listen_flag` is added with 127.0.0.1:PORT ("--serve" for run, "--listen" for serve).
  WebProcess(std::vector<std::string> args, const std::string& listen_flag, const TempDir& dir,
             const std::string& name = "web");
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Client client() const;
  std::string log() const { return read_file(log_); }
  ChildProcess& process() { return *process_; }
  // Polls GET path until `ready(body)` holds (bounded); returns the last body, or "" on timeout.
  template <typename Ready>
  std::string wait_for(const std::string& path, Ready ready, double timeout_s = 60) const;

 private:
  int port_ = 0;
  std::string log_;
  std::unique_ptr<ChildProcess> process_;
};

template <typename Ready>
std::string WebProcess::wait_for(const std::string& path, Ready ready, double timeout_s) const {
  auto c = client();
  for (int i = 0; i < int(timeout_s * 10); ++i) {
    if (auto res = c.Get(path.c_str()); res && res->status == 200 && ready(res->body)) return res->body;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "";
}

}  // namespace sf::test
