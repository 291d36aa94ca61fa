#include "mosquitto_broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace sf::test {
namespace {

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

const char* kProbeTopic = "sightflow-test/probe";

}  // namespace

MosquittoBroker::MosquittoBroker(Security security) : security_(std::move(security)) {
  port_ = free_tcp_port();
  start();
}

MosquittoBroker::~MosquittoBroker() { stop(); }

std::string MosquittoBroker::url() const {
  std::string credentials = security_.user.empty() ? "" : security_.user + ":" + security_.password + "@";
  return std::string(security_.ca_file.empty() ? "mqtt" : "mqtts") + "://" + credentials +
         "127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> MosquittoBroker::client_args() const {
  std::vector<std::string> args = {"-h", "127.0.0.1", "-p", std::to_string(port_)};
  if (!security_.ca_file.empty()) args.insert(args.end(), {"--cafile", security_.ca_file});
  if (!security_.user.empty()) args.insert(args.end(), {"-u", security_.user, "-P", security_.password});
  return args;
}

std::string MosquittoBroker::log() const {
  return read_file(dir_ / ("broker-" + std::to_string(starts_) + ".log"));
}

void MosquittoBroker::start() {
  auto config = dir_ / "mosquitto.conf";
  {
    std::ofstream out(config);
    out << "listener " << port_ << " 127.0.0.1\n"
        << "persistence false\n"
        << "log_dest stderr\n"
        // Started as root, mosquitto would switch to the `mosquitto` user, who cannot read our files.
        << "user " << ::getpwuid(::geteuid())->pw_name << "\n";
    if (security_.user.empty()) {
      out << "allow_anonymous true\n";
    } else {
      auto passwords = dir_ / "passwords";
      std::string output;
      if (run_command(
              {"mosquitto_passwd", "-b", "-c", passwords.string(), security_.user, security_.password},
              &output, 30) != 0)
        throw std::runtime_error("mosquitto_passwd failed: " + output);
      out << "allow_anonymous false\npassword_file " << passwords.string() << "\n";
    }
    if (!security_.ca_file.empty())
      out << "cafile " << security_.ca_file << "\ncertfile " << security_.cert_file << "\nkeyfile "
          << security_.key_file << "\n";
  }
  ++starts_;
  auto log_file = (dir_ / ("broker-" + std::to_string(starts_) + ".log")).string();
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"mosquitto", "-c", config.string()},
                                            log_file, log_file);
  // Two minutes only catch a hang: a loaded machine may take seconds to start it.
  for (int i = 0; i < 6000; ++i) {
    if (accepts_connections(port_)) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + ": " + log());
}

void MosquittoBroker::stop() {
  if (!process_) return;
  ::kill(process_->pid(), SIGTERM);
  process_->wait_exit(30);
  process_.reset();
}

MqttSubscriber::MqttSubscriber(const MosquittoBroker& broker, const std::vector<std::string>& filters) {
  std::vector<std::string> argv = {"mosquitto_sub", "-F", "%j", "-q", "1", "-t", kProbeTopic};
  for (const auto& f : filters) argv.insert(argv.end(), {"-t", f});
  auto connection = broker.client_args();
  argv.insert(argv.end(), connection.begin(), connection.end());
  auto out = (dir_ / "messages.jsonl").string();
  process_ = std::make_unique<ChildProcess>(argv, out, (dir_ / "stderr.txt").string());

  std::vector<std::string> probe = {"mosquitto_pub", "-t", kProbeTopic, "-m", "probe"};
  probe.insert(probe.end(), connection.begin(), connection.end());
  for (int i = 0; i < 200; ++i) {
    run_command(probe, nullptr, 30);
    auto probes_seen = [&] {
      for (const auto& line : read_jsonl(out))
        if (line.value("topic", "") == kProbeTopic) return true;
      return false;
    };
    for (int wait = 0; wait < 10; ++wait) {
      if (probes_seen()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!process_->running()) break;
  }
  throw std::runtime_error("mosquitto_sub never received a probe: " + read_file(dir_ / "stderr.txt") +
                           "\nbroker log: " + broker.log());
}

std::vector<MqttMessage> MqttSubscriber::messages() const {
  std::vector<MqttMessage> messages;
  for (const auto& line : read_jsonl(dir_ / "messages.jsonl")) {
    auto topic = line.value("topic", "");
    if (topic == kProbeTopic) continue;
    messages.push_back({topic, line.value("payload", ""), line.value("retain", 0) != 0});
  }
  return messages;
}

bool MqttSubscriber::wait_for(const std::function<bool(const std::vector<MqttMessage>&)>& done,
                              double timeout_s) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done(messages())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done(messages());
}

std::vector<std::string> MqttSubscriber::payloads(const std::string& topic) const {
  std::vector<std::string> out;
  for (const auto& m : messages())
    if (m.topic == topic) out.push_back(m.payload);
  return out;
}

}  // namespace sf::test
