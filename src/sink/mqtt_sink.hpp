#pragma once
// Results, counts and events over MQTT, for Home Assistant, Node-RED and Frigate-style automations
// (docs/CONFIG.md, "MQTT sink"). Per stream: its state, a retained count per label, per line (in, out)
// and per zone, each published only when it changes; every event as JSON on PREFIX/events; Home
// Assistant discovery configs so the sensors appear by themselves. write() never waits for the broker
// (MqttPublisher holds what is to be sent); a broker that is down or restarts is reconnected to with
// back-off and given the current values again. Thread-safety as Sink: write() and close() from the sink
// thread, report() from any.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

#include "sightflow/sink.hpp"
#include "sink/ha_discovery.hpp"
#include "sink/mqtt_publisher.hpp"
#include "sink/mqtt_topics.hpp"

namespace sf {

struct MqttSinkOptions {
  MqttPublisherOptions connection;  // its availability topic is set from topic_prefix
  std::string topic_prefix = "sightflow";
  int qos = 1;            // of every message
  bool retain = true;     // counts and states (discovery configs and availability always are)
  bool discovery = true;  // Home Assistant discovery configs
  std::string discovery_prefix = "homeassistant";
};

class MqttSink : public Sink {
 public:
  // Returns at once, connected or not; throws std::invalid_argument for options libmosquitto refuses.
  explicit MqttSink(MqttSinkOptions options);
  void write(const Result& result) override;
  // Every stream "stopped", availability "offline", then up to drain_timeout_s to deliver what waits.
  void close() override;
  MqttPublisherStats stats() const { return publisher_.stats(); }
  void report(CounterReport& out) const override;

 private:
  // A value and, the first time its topic is seen, its discovery config.
  void publish(const HaSensor& sensor, const std::string& value);

  MqttSinkOptions options_;
  MqttTopics topics_;
  MqttPublisher publisher_;
  std::set<std::string> announced_;  // state topics whose discovery config was published
  std::map<std::pair<std::string, std::string>, std::set<std::string>> labels_seen_;  // by (stream, algo)
  std::set<std::string> streams_;
};

std::shared_ptr<MqttSink> make_mqtt_sink(MqttSinkOptions options);

// The `mqtt` sink's options: `URL` or {url, topic_prefix, qos, retain, discovery, discovery_prefix,
// client_id, username, password, tls: {ca, cert, key, insecure}, keepalive, queue, reconnect_min,
// reconnect_max}. Without a password, $SIGHTFLOW_MQTT_PASSWORD is used when a user name is given. Throws
// SinkOptionError naming the key.
MqttSinkOptions read_mqtt_options(const nlohmann::json& options);

}  // namespace sf
