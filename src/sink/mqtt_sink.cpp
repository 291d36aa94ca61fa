#include "sink/mqtt_sink.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "sightflow/sink_options.hpp"

namespace sf {
namespace {

// A count from a stage's summary as MQTT text; "0" when missing (a stage that has not counted yet).
std::string count_text(const nlohmann::json& summary, const char* key) {
  auto it = summary.find(key);
  if (it == summary.end() || !it->is_number()) return "0";
  return it->is_number_integer() ? std::to_string(it->get<int64_t>()) : it->dump();
}

}  // namespace

MqttSink::MqttSink(MqttSinkOptions options)
    : options_(std::move(options)), topics_(options_.topic_prefix), publisher_([this] {
        auto connection = options_.connection;
        connection.availability_topic = topics_.availability();
        connection.availability_qos = options_.qos;
        return connection;
      }()) {}

void MqttSink::publish(const HaSensor& sensor, const std::string& value) {
  if (options_.discovery && announced_.insert(sensor.state_topic).second) {
    auto config =
        ha_sensor_config(sensor, options_.discovery_prefix, options_.topic_prefix, topics_.availability());
    publisher_.set(config.topic, config.payload.dump(), options_.qos, true);
  }
  publisher_.set(sensor.state_topic, value, options_.qos, options_.retain);
}

void MqttSink::write(const Result& result) {
  const auto& stream = result.stream;
  if (streams_.insert(stream).second) publish({stream, "state", topics_.stream_state(stream), ""}, "running");

  // Every label this algorithm has reported on this stream: one that is gone now counts 0.
  std::map<std::string, int64_t> counts;
  for (const auto& d : result.detections) ++counts[d.label];
  auto& seen = labels_seen_[{stream, result.algo}];
  for (const auto& [label, n] : counts) seen.insert(label);
  for (const auto& label : seen) {
    auto it = counts.find(label);
    publish({stream, label, topics_.label_count(stream, label), "measurement"},
            std::to_string(it == counts.end() ? 0 : it->second));
  }

  // The counting stages' totals (docs/COUNTING.md).
  if (auto lines = result.analytics.find("lines"); lines != result.analytics.end() && lines->is_object())
    for (const auto& [name, line] : lines->items())
      for (const char* direction : {"in", "out"})
        publish(
            {stream, name + " " + direction, topics_.line_count(stream, name, direction), "total_increasing"},
            count_text(line, direction));
  if (auto zones = result.analytics.find("zones"); zones != result.analytics.end() && zones->is_object())
    for (const auto& [name, zone] : zones->items())
      publish({stream, name + " occupancy", topics_.zone_count(stream, name), "measurement"},
              count_text(zone, "count"));

  for (const auto& event : result.events)
    publisher_.send(topics_.events(), to_json(event, result).dump(), options_.qos);
}

void MqttSink::close() {
  for (const auto& stream : streams_)
    publisher_.set(topics_.stream_state(stream), "stopped", options_.qos, options_.retain);
  publisher_.close();
}

void MqttSink::report(CounterReport& out) const {
  auto s = stats();
  out.counter({"mqtt", "published", "sightflow_mqtt_published_total",
               "MQTT messages handed to the broker (QoS 1 and 2: acknowledged)."},
              double(s.published));
  out.counter({"mqtt", "dropped", "sightflow_mqtt_dropped_total",
               "MQTT event messages lost: queue full, refused, or undelivered at close."},
              double(s.dropped));
  out.counter({"mqtt", "connections", "sightflow_mqtt_connections_total",
               "Connections the MQTT broker accepted (the first and every reconnect)."},
              double(s.connections));
  out.gauge({"mqtt", "queued", "sightflow_mqtt_queued", "MQTT messages waiting to be published."},
            double(s.queued));
  out.gauge({"mqtt", "connected", "sightflow_mqtt_connected", "1 while connected to the MQTT broker."},
            s.connected ? 1.0 : 0.0);
  out.summary(fmt::format("mqtt {}: {} messages published, {} dropped, {} connections",
                          options_.connection.broker.describe(), s.published, s.dropped, s.connections));
}

std::shared_ptr<MqttSink> make_mqtt_sink(MqttSinkOptions options) {
  return std::make_shared<MqttSink>(std::move(options));
}

MqttSinkOptions read_mqtt_options(const nlohmann::json& options) {
  SinkOptionReader r(options, "url");
  r.only_keys({"url", "topic_prefix", "qos", "retain", "discovery", "discovery_prefix", "client_id",
               "username", "password", "tls", "keepalive", "queue", "reconnect_min", "reconnect_max"});
  MqttSinkOptions o;
  auto& c = o.connection;
  auto& broker = c.broker;
  try {
    broker =
        parse_mqtt_url(r.required_text("url", "mqtt://[USER[:PASSWORD]@]HOST[:PORT], or mqtts:// for TLS"));
  } catch (const std::invalid_argument& e) {
    r.fail("url", e.what());
  }
  if (r.has("username")) broker.username = r.required_text("username", "a user name");
  if (r.has("password")) broker.password = r.text("password", "");
  // Kept out of files and command lines (where `ps` shows it): the environment.
  if (const char* env = std::getenv("SIGHTFLOW_MQTT_PASSWORD"); env && broker.password.empty())
    broker.password = env;
  if (broker.username.empty() && !broker.password.empty() && r.has("password"))
    r.fail("password", "a password needs a user name (in the URL or `username`)");
  if (broker.username.empty()) broker.password.clear();

  auto prefix = [&](const char* key, const std::string& fallback) {
    auto value = r.text(key, fallback);
    try {
      check_topic_prefix(value);
    } catch (const std::invalid_argument& e) {
      r.fail(key, e.what());
    }
    return value;
  };
  o.topic_prefix = prefix("topic_prefix", o.topic_prefix);
  o.discovery_prefix = prefix("discovery_prefix", o.discovery_prefix);
  o.discovery = r.boolean("discovery", o.discovery);
  o.retain = r.boolean("retain", o.retain);
  o.qos = int(r.integer("qos", o.qos));
  if (o.qos < 0 || o.qos > 2) r.fail("qos", "must be 0, 1 or 2");
  c.client_id = r.text("client_id", "");

  auto tls = r.object("tls");
  tls.only_keys({"ca", "cert", "key", "insecure"});
  bool tls_given = tls.has("ca") || tls.has("cert") || tls.has("key") || tls.has("insecure");
  if (tls_given && !broker.tls) r.fail("tls", "TLS options need an mqtts:// URL");
  auto file = [&](const char* key) {
    auto path = tls.text(key, "");
    if (!path.empty() && !std::filesystem::is_regular_file(path)) tls.fail(key, "no such file: " + path);
    return path;
  };
  c.tls.ca = file("ca");
  c.tls.cert = file("cert");
  c.tls.key = file("key");
  if (c.tls.cert.empty() != c.tls.key.empty())
    tls.fail(c.tls.cert.empty() ? "cert" : "key", "a client certificate needs both `cert` and `key`");
  c.tls.insecure = tls.boolean("insecure", false);

  c.keepalive_s = int(r.integer("keepalive", c.keepalive_s));
  if (c.keepalive_s < 5 || c.keepalive_s > 65535) r.fail("keepalive", "must be 5..65535 seconds");
  auto queue = r.integer("queue", int64_t(c.queue_capacity));
  if (queue < 1) r.fail("queue", "must be at least 1");
  c.queue_capacity = size_t(queue);
  c.reconnect_min_s = r.number("reconnect_min", c.reconnect_min_s);
  if (c.reconnect_min_s <= 0) r.fail("reconnect_min", "must be positive");
  c.reconnect_max_s = r.number("reconnect_max", std::max(c.reconnect_max_s, c.reconnect_min_s));
  if (c.reconnect_max_s < c.reconnect_min_s) r.fail("reconnect_max", "must be at least reconnect_min");
  return o;
}

}  // namespace sf
