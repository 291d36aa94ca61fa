#pragma once
// A connection to an MQTT broker (libmosquitto) that never makes its caller wait for the network: set()
// and send() only record what to publish; one thread of its own connects, publishes and reconnects with
// back-off. Two kinds of message:
//   - a topic's latest value (counts, states, discovery configs): kept, published when it changes, and
//     published again after every (re)connect, so a broker that restarted empty gets the whole state back
//     and a dead broker costs no memory beyond one value per topic;
//   - one-off messages (events): a bounded queue, the oldest dropped (and counted) when full.
// The availability topic says "online" on every connect and "offline" at close(); the broker says
// "offline" for us (the last will) when the connection drops without a goodbye (a crash, kill -9).
// Thread-safety: set(), send() and close() from one thread (the pipeline's sink thread); stats() from any.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sink/mqtt_url.hpp"

struct mosquitto;

namespace sf {

struct MqttTlsFiles {
  std::string ca;         // PEM file of the CA to trust; empty: the system's CAs
  std::string cert, key;  // client certificate and its key (both or neither)
  bool insecure = false;  // skip the host name check (the certificate chain is still verified)
};

struct MqttPublisherOptions {
  MqttBroker broker;
  MqttTlsFiles tls;       // used with mqtts://
  std::string client_id;  // empty: sightflow-HOST-PID (plus -N for a process's Nth connection)
  int keepalive_s = 30;   // also how long a connection attempt may hang before it is given up
  std::string availability_topic = "sightflow/availability";
  int availability_qos = 1;
  size_t queue_capacity = 1000;  // one-off messages waiting
  double reconnect_min_s = 1;    // the wait after a failed or lost connection; doubles up to the max
  double reconnect_max_s = 30;
  double drain_timeout_s = 5;  // close() keeps trying to deliver this long
};

struct MqttPublisherStats {
  uint64_t published = 0;    // handed over: QoS 0 written to the connection, QoS 1 and 2 acknowledged
  uint64_t dropped = 0;      // one-off messages lost: queue full, refused by libmosquitto, left at close
  uint64_t queued = 0;       // waiting: one-off messages and changed values not yet published
  uint64_t connections = 0;  // accepted by the broker: the first and every reconnect
  bool connected = false;
};

class MqttPublisher {
 public:
  // Starts the connection thread and returns at once (the broker may be down: it is retried). Throws
  // std::invalid_argument when TLS files cannot be used, std::runtime_error when libmosquitto cannot start.
  explicit MqttPublisher(MqttPublisherOptions options);
  ~MqttPublisher();
  MqttPublisher(const MqttPublisher&) = delete;
  MqttPublisher& operator=(const MqttPublisher&) = delete;

  // The latest value of `topic`; false (nothing to publish) when it is the one already held.
  bool set(const std::string& topic, const std::string& payload, int qos, bool retain);
  // A one-off message, never retained.
  void send(std::string topic, std::string payload, int qos);
  // Says "offline", delivers what waits for up to drain_timeout_s (reconnecting if need be), then
  // disconnects cleanly. What is still undelivered counts as dropped.
  void close();
  MqttPublisherStats stats() const;
  const MqttPublisherOptions& options() const { return options_; }

 private:
  struct Message {
    std::string topic, payload;
    int qos = 0;
    bool retain = false;
  };
  struct Latest {
    Message message;
    bool dirty = false;  // changed since last handed to libmosquitto
  };
  struct InFlight {
    Message message;
    bool one_off = false;
    uint64_t order = 0;
  };

  void run();  // the connection thread
  void pump();
  bool done();
  void pause(double seconds);
  void finish();
  void note_failure(const std::string& reason);
  void republish_all();      // after a connect: every latest value, availability first
  void requeue_unwritten();  // after a lost connection: QoS 0 messages libmosquitto will not send

  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_publish(mosquitto*, void* self, int mid);

  MqttPublisherOptions options_;
  std::string broker_;  // the broker's URL without password, for logs
  std::unique_ptr<mosquitto, void (*)(mosquitto*)> mosq_;

  // Shared by the caller and the connection thread.
  mutable std::mutex mutex_;
  std::condition_variable wake_;  // close() wakes a connection thread waiting to reconnect
  std::vector<Latest> latest_;    // in the order topics first appeared (a discovery config before its state)
  std::unordered_map<std::string, size_t> latest_index_;
  std::deque<size_t> dirty_;  // indexes into latest_, oldest change first
  std::deque<Message> one_off_;
  bool closing_ = false;
  double drain_deadline_ = 0;
  bool overflow_warned_ = false;

  // The connection thread's own (libmosquitto calls its callbacks there too).
  std::map<int, InFlight> in_flight_;  // by message id: handed to libmosquitto, not confirmed yet
  std::set<int> confirmed_early_;      // QoS 0 messages confirmed inside mosquitto_publish()
  std::set<std::string> refused_topics_;
  uint64_t order_ = 0;
  double backoff_s_ = 0;
  int failures_ = 0;               // connection attempts failed in a row
  bool attempt_reported_ = false;  // this attempt's failure was logged (a refusal, then the socket closes)

  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> published_{0}, dropped_{0}, connections_{0};
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace sf
