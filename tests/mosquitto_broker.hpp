#pragma once
// A mosquitto broker of the test's own on 127.0.0.1 and a free port (no persistence: a restarted broker
// starts empty, retained messages included), and mosquitto_sub reading from it. stop() and start() again
// keep the port: a restarted broker, as after a crash or an upgrade.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace sf::test {

class MosquittoBroker {
 public:
  struct Security {
    std::string user, password;                // set: anonymous clients are refused
    std::string ca_file, cert_file, key_file;  // set: the listener speaks TLS only
  };

  explicit MosquittoBroker(Security security = {});
  ~MosquittoBroker();
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  void start();  // waits (bounded) until the port accepts connections
  void stop();   // SIGTERM, then waits for the exit
  int port() const { return port_; }
  std::string url() const;  // mqtt[s]://[user:password@]127.0.0.1:PORT
  // What mosquitto_sub and mosquitto_pub need to reach it: host, port, CA, credentials.
  std::vector<std::string> client_args() const;
  std::string log() const;

 private:
  Security security_;
  TempDir dir_;
  int port_ = 0;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

struct MqttMessage {
  std::string topic, payload;
  bool retained = false;  // delivered from the broker's retained store (sent before we subscribed)
};

// mosquitto_sub on `filters`, every message kept. The constructor returns once the subscription is live
// (a probe published with mosquitto_pub came back), so nothing published afterwards is missed.
class MqttSubscriber {
 public:
  MqttSubscriber(const MosquittoBroker& broker, const std::vector<std::string>& filters);
  std::vector<MqttMessage> messages() const;  // in arrival order, probes left out
  // Waits (bounded) until `done` holds for the messages so far; returns whether it did.
  bool wait_for(const std::function<bool(const std::vector<MqttMessage>&)>& done,
                double timeout_s = 60) const;
  // The payloads that arrived on `topic`, in order.
  std::vector<std::string> payloads(const std::string& topic) const;

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace sf::test
