// The MQTT sink: broker URLs, topic names and options on their own; then against a real mosquitto broker
// on 127.0.0.1, read with mosquitto_sub: counts published only when they change, events, Home Assistant
// discovery, retained state for late subscribers, a broker restart, a broker that is not there, TLS with a
// password, and `sightflow run --mqtt` to the end and killed (the last will).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "mosquitto_broker.hpp"
#include "sightflow/sink.hpp"
#include "sink/mqtt_sink.hpp"
#include "sink/mqtt_topics.hpp"
#include "sink/mqtt_url.hpp"
#include "test_support.hpp"

using namespace sf;
using nlohmann::json;
using test::MosquittoBroker;
using test::MqttMessage;
using test::MqttSubscriber;

namespace {

// What report() says, by metric name.
class CollectedCounters : public CounterReport {
 public:
  void counter(const CounterName& name, double value) override { values[name.metric] = value; }
  void gauge(const CounterName& name, double value) override { values[name.metric] = value; }
  void histogram(const CounterName&, const StageStat&) override {}
  std::map<std::string, double> values;
};

Result make_result(const std::string& stream, int64_t frame, const std::map<std::string, int>& labels) {
  Result r;
  r.stream = stream;
  r.algo = "det";
  r.frame = frame;
  r.pts = double(frame) * 0.1;
  r.ts = 1.7e9 + double(frame);
  for (const auto& [label, n] : labels)
    for (int i = 0; i < n; ++i)
      r.detections.push_back({label, 0, 0.9f, cv::Rect2f(10.f * float(i), 20, 30, 60), {}});
  return r;
}

Event make_event(const std::string& type, const std::string& name, int64_t track,
                 const std::string& direction = "", std::optional<double> dwell = {}) {
  Event e;
  e.type = type;
  e.name = name;
  e.track_id = track;
  e.label = "person";
  e.direction = direction;
  e.dwell = dwell;
  return e;
}

// Sets an environment variable for the lifetime of the object, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// The key a SinkOptionError names, or "(no error)".
std::string bad_key(const json& options) {
  try {
    read_mqtt_options(options);
  } catch (const SinkOptionError& e) {
    return e.key();
  }
  return "(no error)";
}

std::string url_error(const std::string& url) {
  try {
    parse_mqtt_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

bool has(const std::vector<MqttMessage>& messages, const std::string& topic, const std::string& payload) {
  for (const auto& m : messages)
    if (m.topic == topic && m.payload == payload) return true;
  return false;
}

// The newest payload of `topic`, "" when none came.
std::string last_payload(const std::vector<MqttMessage>& messages, const std::string& topic) {
  std::string last;
  for (const auto& m : messages)
    if (m.topic == topic) last = m.payload;
  return last;
}

std::vector<MqttMessage> under(const std::vector<MqttMessage>& messages, const std::string& prefix) {
  std::vector<MqttMessage> out;
  for (const auto& m : messages)
    if (m.topic.rfind(prefix, 0) == 0) out.push_back(m);
  return out;
}

// Waits (bounded) until `condition` holds.
bool eventually(const std::function<bool()>& condition, double timeout_s = 60) {
  for (int i = 0; i < int(timeout_s * 50); ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// A sequence without its repeats in a row: what publishing only on change leaves of it.
std::vector<std::string> changes(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values)
    if (out.empty() || out.back() != v) out.push_back(v);
  return out;
}

}  // namespace

TEST(MqttUrl, ReadsUserPasswordHostPortAndTls) {
  auto plain = parse_mqtt_url("mqtt://broker.local");
  EXPECT_EQ(plain.host, "broker.local");
  EXPECT_EQ(plain.port, 1883);
  EXPECT_FALSE(plain.tls);
  EXPECT_TRUE(plain.username.empty());

  auto secure = parse_mqtt_url("mqtts://ha%40home:p%3Ass%2F1@10.0.0.2/");
  EXPECT_TRUE(secure.tls);
  EXPECT_EQ(secure.port, 8883);
  EXPECT_EQ(secure.username, "ha@home");
  EXPECT_EQ(secure.password, "p:ss/1");
  EXPECT_EQ(secure.describe(), "mqtts://ha@home@10.0.0.2:8883");  // never the password

  auto v6 = parse_mqtt_url("mqtt://cam@[::1]:1884");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 1884);
  EXPECT_EQ(v6.username, "cam");
  EXPECT_EQ(v6.describe(), "mqtt://cam@[::1]:1884");
}

TEST(MqttUrl, NamesWhatIsWrongAndNeverShowsThePassword) {
  EXPECT_NE(url_error("broker:1883").find("expected mqtt://"), std::string::npos);
  EXPECT_NE(url_error("http://broker").find("unsupported scheme 'http'"), std::string::npos);
  EXPECT_NE(url_error("mqtt://").find("missing host"), std::string::npos);
  EXPECT_NE(url_error("mqtt://user@").find("missing host"), std::string::npos);
  for (const char* port : {"0", "65536", "x", ""})
    EXPECT_NE(url_error(std::string("mqtt://broker:") + port).find("port must be a number 1..65535"),
              std::string::npos)
        << port;
  EXPECT_NE(url_error("mqtt://broker/sightflow").find("no path"), std::string::npos);
  EXPECT_NE(url_error("mqtt://:pw@broker").find("empty user name"), std::string::npos);

  auto bad_escape = url_error("mqtt://cam:s3cret%zz@broker:70000");
  EXPECT_NE(bad_escape.find("bad %-escape in the password"), std::string::npos) << bad_escape;
  auto bad_port = url_error("mqtt://cam:s3cret@broker:70000");
  EXPECT_NE(bad_port.find("mqtt://cam:***@broker:70000"), std::string::npos) << bad_port;
  for (const auto& error : {bad_escape, bad_port})
    EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
}

TEST(MqttTopics, EveryNameBecomesOneSafeLevel) {
  MqttTopics t("home/sf");
  EXPECT_EQ(t.availability(), "home/sf/availability");
  EXPECT_EQ(t.events(), "home/sf/events");
  EXPECT_EQ(t.stream_state("cam"), "home/sf/cam/state");
  EXPECT_EQ(t.label_count("front/door", "a+b#c"), "home/sf/front_door/a_b_c");
  EXPECT_EQ(t.line_count("cam", "door/1", "in"), "home/sf/cam/lines/door_1/in");
  EXPECT_EQ(t.zone_count("cam", ""), "home/sf/cam/zones/_");
  EXPECT_EQ(mqtt_topic_level("tab\there"), "tab_here");
  // Names that would land on a fixed topic step aside.
  EXPECT_EQ(t.label_count("cam", "state"), "home/sf/cam/state_");
  EXPECT_EQ(t.stream_state("events"), "home/sf/events_/state");
  EXPECT_EQ(t.label_count("availability", "person"), "home/sf/availability_/person");

  EXPECT_NO_THROW(check_topic_prefix("home/sightflow"));
  for (const char* bad : {"", "a/#", "a/+/b", "$SYS", "/a", "a/"})
    EXPECT_THROW(check_topic_prefix(bad), std::invalid_argument) << bad;
}

TEST(MqttSinkOptions, ReadsDefaultsAndEveryOption) {
  auto defaults = read_mqtt_options("mqtt://cam:pw@broker:1884");
  EXPECT_EQ(defaults.connection.broker.host, "broker");
  EXPECT_EQ(defaults.connection.broker.password, "pw");
  EXPECT_EQ(defaults.topic_prefix, "sightflow");
  EXPECT_EQ(defaults.discovery_prefix, "homeassistant");
  EXPECT_EQ(defaults.qos, 1);
  EXPECT_TRUE(defaults.retain);
  EXPECT_TRUE(defaults.discovery);

  test::TempDir dir;
  auto ca = (dir / "ca.pem").string();
  std::ofstream(ca) << "not read here";
  auto full = read_mqtt_options({{"url", "mqtts://broker"},
                                 {"topic_prefix", "home/cams"},
                                 {"qos", 0},
                                 {"retain", false},
                                 {"discovery", false},
                                 {"discovery_prefix", "ha"},
                                 {"client_id", "garage"},
                                 {"username", "cam"},
                                 {"password", "pw"},
                                 {"tls", {{"ca", ca}, {"insecure", true}}},
                                 {"keepalive", 10},
                                 {"queue", 5},
                                 {"reconnect_min", 0.5},
                                 {"reconnect_max", 4}});
  EXPECT_EQ(full.topic_prefix, "home/cams");
  EXPECT_EQ(full.qos, 0);
  EXPECT_FALSE(full.retain);
  EXPECT_FALSE(full.discovery);
  EXPECT_EQ(full.discovery_prefix, "ha");
  const auto& c = full.connection;
  EXPECT_EQ(c.client_id, "garage");
  EXPECT_EQ(c.broker.username, "cam");
  EXPECT_EQ(c.broker.password, "pw");
  EXPECT_EQ(c.tls.ca, ca);
  EXPECT_TRUE(c.tls.insecure);
  EXPECT_EQ(c.keepalive_s, 10);
  EXPECT_EQ(c.queue_capacity, 5u);
  EXPECT_EQ(c.reconnect_min_s, 0.5);
  EXPECT_EQ(c.reconnect_max_s, 4);

  // A password kept out of files and command lines.
  ScopedEnv env("SIGHTFLOW_MQTT_PASSWORD", "from-env");
  EXPECT_EQ(read_mqtt_options("mqtt://cam@broker").connection.broker.password, "from-env");
  EXPECT_EQ(read_mqtt_options("mqtt://cam:given@broker").connection.broker.password, "given");
  EXPECT_EQ(read_mqtt_options("mqtt://broker").connection.broker.password, "");  // anonymous

  // Each mistake names its key, so the YAML reader can point at its line.
  test::TempDir files;
  auto cert = (files / "cert.pem").string();
  std::ofstream(cert) << "x";
  EXPECT_EQ(bad_key(json::object()), "url");
  EXPECT_EQ(bad_key("ftp://broker"), "url");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"qos", 3}}), "qos");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"colour", 1}}), "colour");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"topic_prefix", "a/#"}}), "topic_prefix");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"discovery_prefix", ""}}), "discovery_prefix");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"password", "pw"}}), "password");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"tls", {{"insecure", true}}}}), "tls");
  EXPECT_EQ(bad_key({{"url", "mqtts://b"}, {"tls", {{"ca", "/no/such/ca.pem"}}}}), "tls.ca");
  EXPECT_EQ(bad_key({{"url", "mqtts://b"}, {"tls", {{"cert", cert}}}}), "tls.key");
  EXPECT_EQ(bad_key({{"url", "mqtts://b"}, {"tls", {{"pem", cert}}}}), "tls.pem");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"keepalive", 2}}), "keepalive");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"queue", 0}}), "queue");
  EXPECT_EQ(bad_key({{"url", "mqtt://b"}, {"reconnect_min", 2}, {"reconnect_max", 1}}), "reconnect_max");
  // Through the registry, as a config's `sinks: mqtt:` is checked.
  EXPECT_THROW(check_sink_options({"mqtt", "mqtt://b:99999"}), SinkOptionError);
  EXPECT_NO_THROW(check_sink_options({"mqtt", "mqtt://b"}));
}

TEST(MqttSink, PublishesCountsOnlyWhenTheyChangeEventsAndDiscoveryAndKeepsTheStateForLateSubscribers) {
  MosquittoBroker broker;
  MqttSubscriber live(broker, {"sf/#", "ha/#"});
  auto sink = make_mqtt_sink(read_mqtt_options(
      {{"url", broker.url()}, {"topic_prefix", "sf"}, {"discovery_prefix", "ha"}, {"client_id", "counts"}}));

  // Each result is written once the previous one is out: values waiting for the connection are only
  // ever the newest (a later change replaces an unpublished one).
  auto write = [&](const Result& r, const std::string& topic, const std::string& payload) {
    sink->write(r);
    ASSERT_TRUE(live.wait_for([&](const auto& m) { return has(m, topic, payload); }))
        << topic << " " << payload << "\n"
        << broker.log();
  };
  auto r0 = make_result("cam", 0, {{"person", 2}, {"car", 1}});
  r0.analytics = {{"lines", {{"door", {{"in", 0}, {"out", 0}}}}}, {"zones", {{"lawn", {{"count", 1}}}}}};
  write(r0, "sf/cam/person", "2");
  auto r1 = r0;  // only the zone changes: nothing else is published again
  r1.frame = 1;
  r1.analytics["zones"]["lawn"]["count"] = 5;
  write(r1, "sf/cam/zones/lawn", "5");
  auto r2 = make_result("cam", 2, {{"person", 3}});  // the car is gone: 0
  r2.analytics = {{"lines", {{"door", {{"in", 1}, {"out", 0}}}}}, {"zones", {{"lawn", {{"count", 2}}}}}};
  r2.events = {make_event("line", "door", 7, "in"), make_event("enter", "lawn", 7)};
  write(r2, "sf/cam/person", "3");
  auto r3 = make_result("cam", 3, {});
  r3.analytics = {{"lines", {{"door", {{"in", 1}, {"out", 0}}}}}, {"zones", {{"lawn", {{"count", 0}}}}}};
  r3.events = {make_event("exit", "lawn", 7, "", 1.5)};
  write(r3, "sf/cam/person", "0");
  write(make_result("yard/gate", 0, {{"a+b", 1}}), "sf/yard_gate/a_b",
        "1");  // names no topic level takes as is
  sink->close();

  ASSERT_TRUE(live.wait_for([](const auto& m) { return has(m, "sf/availability", "offline"); }))
      << broker.log();
  auto all = live.messages();
  EXPECT_EQ(live.payloads("sf/availability"), (std::vector<std::string>{"online", "offline"}));
  EXPECT_EQ(live.payloads("sf/cam/state"), (std::vector<std::string>{"running", "stopped"}));
  EXPECT_EQ(live.payloads("sf/cam/person"), (std::vector<std::string>{"2", "3", "0"}));
  EXPECT_EQ(live.payloads("sf/cam/car"), (std::vector<std::string>{"1", "0"}));
  EXPECT_EQ(live.payloads("sf/cam/lines/door/in"), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(live.payloads("sf/cam/lines/door/out"), (std::vector<std::string>{"0"}));
  EXPECT_EQ(live.payloads("sf/cam/zones/lawn"), (std::vector<std::string>{"1", "5", "2", "0"}));

  // Each event as its events-file object, in order.
  std::vector<json> expected_events;
  for (const auto* r : {&r2, &r3})
    for (const auto& e : r->events) expected_events.push_back(json::parse(to_json(e, *r).dump()));
  std::vector<json> events;
  for (const auto& p : live.payloads("sf/events")) events.push_back(json::parse(p));
  EXPECT_EQ(events, expected_events);

  // One discovery config per sensor, before its first value, all pointing at the availability topic.
  std::map<std::string, std::string> state_class = {{"sf/cam/state", ""},
                                                    {"sf/cam/person", "measurement"},
                                                    {"sf/cam/car", "measurement"},
                                                    {"sf/cam/lines/door/in", "total_increasing"},
                                                    {"sf/cam/lines/door/out", "total_increasing"},
                                                    {"sf/cam/zones/lawn", "measurement"},
                                                    {"sf/yard_gate/state", ""},
                                                    {"sf/yard_gate/a_b", "measurement"}};
  std::set<std::string> configured, unique_ids;
  std::set<std::string> valued;  // state topics that had a value before now
  for (const auto& m : all) {
    if (m.topic.rfind("ha/", 0) != 0) {
      valued.insert(m.topic);
      continue;
    }
    EXPECT_EQ(m.topic.rfind("ha/sensor/sf/", 0), 0u) << m.topic;
    EXPECT_EQ(m.topic.substr(m.topic.size() - 7), "/config") << m.topic;
    auto config = json::parse(m.payload);
    auto topic = config.at("state_topic").get<std::string>();
    ASSERT_TRUE(state_class.count(topic)) << m.payload;
    EXPECT_FALSE(valued.count(topic)) << "the config of " << topic << " came after its value";
    EXPECT_TRUE(configured.insert(topic).second) << "announced twice: " << topic;
    EXPECT_TRUE(unique_ids.insert(config.at("unique_id").get<std::string>()).second) << m.payload;
    EXPECT_EQ(config.value("state_class", ""), state_class[topic]) << m.payload;
    EXPECT_EQ(config.at("availability_topic"), "sf/availability");
    EXPECT_EQ(config.at("device").at("name"), topic.rfind("sf/cam/", 0) == 0 ? "cam" : "yard/gate");
  }
  EXPECT_EQ(configured.size(), state_class.size());
  auto s = sink->stats();
  EXPECT_EQ(s.published, all.size());
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.connections, 1u);

  // Someone who subscribes afterwards gets the last values and the configs (retained), not the events.
  MqttSubscriber late(broker, {"sf/#", "ha/#"});
  ASSERT_TRUE(late.wait_for([&](const auto& m) { return m.size() >= 1 + 2 * state_class.size(); }));
  auto retained = late.messages();
  for (const auto& m : retained) EXPECT_TRUE(m.retained) << m.topic;
  EXPECT_TRUE(has(retained, "sf/availability", "offline"));
  EXPECT_TRUE(has(retained, "sf/cam/state", "stopped"));
  EXPECT_TRUE(has(retained, "sf/cam/person", "0"));
  EXPECT_TRUE(has(retained, "sf/cam/lines/door/in", "1"));
  EXPECT_TRUE(has(retained, "sf/cam/zones/lawn", "0"));
  EXPECT_TRUE(late.payloads("sf/events").empty());
  EXPECT_EQ(under(retained, "ha/").size(), state_class.size());
}

TEST(MqttSink, ReconnectsAfterABrokerRestartAndGivesTheEmptyBrokerTheStateAgain) {
  MosquittoBroker broker;
  auto options = read_mqtt_options(
      {{"url", broker.url()}, {"topic_prefix", "sf"}, {"reconnect_min", 0.05}, {"reconnect_max", 0.2}});
  auto sink = make_mqtt_sink(options);
  {
    MqttSubscriber before(broker, {"sf/#"});
    sink->write(make_result("cam", 0, {{"person", 1}}));
    ASSERT_TRUE(before.wait_for([](const auto& m) { return has(m, "sf/cam/person", "1"); })) << broker.log();
  }

  broker.stop();
  ASSERT_TRUE(eventually([&] { return !sink->stats().connected; }));
  // Results keep coming while the broker is away: write() returns, values and events wait.
  for (int frame = 1; frame <= 20; ++frame) {
    auto r = make_result("cam", frame, {{"person", 2}});
    r.events = {make_event("enter", "lawn", frame)};
    sink->write(r);
  }
  auto away = sink->stats();
  EXPECT_FALSE(away.connected);
  EXPECT_GE(away.queued, 21u);  // 20 events and the changed count
  EXPECT_EQ(away.dropped, 0u);

  broker.start();  // the same port, and empty: no retained message survived
  MqttSubscriber after(broker, {"sf/#"});
  ASSERT_TRUE(after.wait_for([](const auto& m) {
    return has(m, "sf/cam/person", "2") && has(m, "sf/availability", "online") &&
           has(m, "sf/cam/state", "running");
  })) << broker.log();

  // Later messages arrive as before.
  auto later = make_result("cam", 21, {{"person", 3}});
  later.events = {make_event("exit", "lawn", 21, "", 2.0)};
  sink->write(later);
  ASSERT_TRUE(after.wait_for([](const auto& m) {
    if (!has(m, "sf/cam/person", "3")) return false;
    for (const auto& message : m)
      if (message.topic == "sf/events" && json::parse(message.payload).value("frame", 0) == 21) return true;
    return false;
  }));
  ASSERT_TRUE(eventually([&] { return sink->stats().queued == 0; }));
  auto s = sink->stats();
  EXPECT_TRUE(s.connected);
  EXPECT_EQ(s.connections, 2u);
  EXPECT_EQ(s.dropped, 0u);  // the events of the outage went out after the reconnect
  sink->close();
}

TEST(MqttSink, NeverWaitsForABrokerThatIsNotThereAndCountsWhatItDrops) {
  int port = test::free_tcp_port();  // nothing listens there: every connection attempt is refused
  auto options = read_mqtt_options({{"url", "mqtt://127.0.0.1:" + std::to_string(port)},
                                    {"queue", 10},
                                    {"reconnect_min", 0.05},
                                    {"reconnect_max", 0.1}});
  options.connection.drain_timeout_s = 0.2;
  auto sink = make_mqtt_sink(options);
  for (int frame = 0; frame < 100; ++frame) {
    auto r = make_result("cam", frame, {{"person", frame % 3}});
    r.events = {make_event("enter", "lawn", frame)};
    sink->write(r);
  }
  auto s = sink->stats();
  EXPECT_FALSE(s.connected);
  EXPECT_EQ(s.connections, 0u);
  EXPECT_EQ(s.dropped, 90u);  // the queue keeps the newest 10 events
  EXPECT_GE(s.queued, 10u);

  sink->close();  // gives up after the drain timeout: the 10 still waiting are dropped too
  CollectedCounters counters;
  sink->report(counters);
  EXPECT_EQ(counters.values["sightflow_mqtt_dropped_total"], 100);
  EXPECT_EQ(counters.values["sightflow_mqtt_published_total"], 0);
  EXPECT_EQ(counters.values["sightflow_mqtt_connections_total"], 0);
  EXPECT_EQ(counters.values["sightflow_mqtt_connected"], 0);
}

TEST(MqttSink, SpeaksTlsWithAUserAndPasswordAndKeepsTryingWhenRefused) {
  test::TempDir certs;
  auto cert = (certs / "cert.pem").string(), key = (certs / "key.pem").string();
  std::string output;
  ASSERT_EQ(
      test::run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                        &output, 60),
      0)
      << output;
  MosquittoBroker broker({"cam", "s3cret", cert, cert, key});
  ASSERT_EQ(broker.url().rfind("mqtts://cam:s3cret@", 0), 0u);
  MqttSubscriber live(broker, {"sightflow/#"});
  auto sink = make_mqtt_sink(read_mqtt_options({{"url", broker.url()}, {"tls", {{"ca", cert}}}}));
  sink->write(make_result("cam", 0, {{"person", 1}}));
  ASSERT_TRUE(live.wait_for([](const auto& m) { return has(m, "sightflow/cam/person", "1"); }))
      << broker.log();

  // A wrong password is refused and tried again, and the sink carries on without the broker.
  auto refused_options =
      read_mqtt_options({{"url", "mqtts://cam:wrong@127.0.0.1:" + std::to_string(broker.port())},
                         {"tls", {{"ca", cert}}},
                         {"client_id", "intruder"},
                         {"topic_prefix", "intruder"},
                         {"reconnect_min", 0.05},
                         {"reconnect_max", 0.1}});
  refused_options.connection.drain_timeout_s = 0.2;
  auto refused = make_mqtt_sink(refused_options);
  refused->write(make_result("cam", 0, {{"person", 1}}));
  // Refused twice: the broker said no, and the sink came back for more.
  ASSERT_TRUE(eventually([&] {
    auto log = broker.log();
    auto first = log.find("not authorised");
    return first != std::string::npos && log.find("not authorised", first + 1) != std::string::npos;
  })) << broker.log();
  refused->close();
  EXPECT_EQ(refused->stats().connections, 0u);
  sink->close();
  ASSERT_TRUE(live.wait_for([](const auto& m) { return has(m, "sightflow/availability", "offline"); }));
  EXPECT_TRUE(under(live.messages(), "intruder/").empty());
}

TEST(MqttCli, RunPublishesCountsEventsAndDiscoveryAsItsResultsSay) {
  MosquittoBroker broker;
  MqttSubscriber live(broker, {"sf/#", "homeassistant/#"});
  test::TempDir dir;
  std::string output;
  ASSERT_EQ(test::run_command({test::sightflow_bin(),
                               "run",
                               "--source",
                               test::vtest_path(),
                               "--detector",
                               "hog",
                               "--max-frames",
                               "8",
                               "--track",
                               "--line",
                               "walkway=0,300,768,300",
                               "--zone",
                               "all=0,0,768,0,768,576,0,576",
                               "--out",
                               (dir / "r.jsonl").string(),
                               "--mqtt",
                               broker.url(),
                               "--mqtt-prefix",
                               "sf",
                               "--no-progress"},
                              &output),
            0)
      << output;
  auto results = test::read_jsonl(dir / "r.jsonl");
  ASSERT_EQ(results.size(), 8u);
  ASSERT_TRUE(live.wait_for([](const auto& m) { return has(m, "sf/availability", "offline"); })) << output;

  // Each topic carries its results' values, without repeats in a row.
  std::vector<std::string> people, inside, crossed_in, crossed_out;
  std::vector<json> expected_events;
  for (const auto& r : results) {
    int n = 0;
    for (const auto& d : r["detections"]) n += d["label"] == "person";
    people.push_back(std::to_string(n));
    inside.push_back(r["zones"]["all"]["count"].dump());
    crossed_in.push_back(r["lines"]["walkway"]["in"].dump());
    crossed_out.push_back(r["lines"]["walkway"]["out"].dump());
    for (const auto& e : r.value("events", json::array())) expected_events.push_back(e);
  }
  EXPECT_EQ(live.payloads("sf/vtest/person"), changes(people));
  EXPECT_EQ(live.payloads("sf/vtest/zones/all"), changes(inside));
  EXPECT_EQ(live.payloads("sf/vtest/lines/walkway/in"), changes(crossed_in));
  EXPECT_EQ(live.payloads("sf/vtest/lines/walkway/out"), changes(crossed_out));
  EXPECT_EQ(live.payloads("sf/vtest/state"), (std::vector<std::string>{"running", "stopped"}));
  EXPECT_EQ(live.payloads("sf/availability"), (std::vector<std::string>{"online", "offline"}));

  ASSERT_FALSE(expected_events.empty()) << "HOG finds people on vtest: each enters the zone";
  auto events = live.payloads("sf/events");
  ASSERT_EQ(events.size(), expected_events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    auto e = json::parse(events[i]);
    EXPECT_EQ(e["stream"], "vtest");
    EXPECT_EQ(e["algo"], "hog");
    for (const char* key : {"type", "name", "track_id", "label"})
      EXPECT_EQ(e[key], expected_events[i][key]) << i;
  }

  std::map<std::string, std::string> names;  // state topic -> sensor name
  for (const auto& m : under(live.messages(), "homeassistant/sensor/sf/")) {
    auto config = json::parse(m.payload);
    names[config["state_topic"]] = config["name"];
  }
  EXPECT_EQ(names, (std::map<std::string, std::string>{{"sf/vtest/state", "state"},
                                                       {"sf/vtest/person", "person"},
                                                       {"sf/vtest/lines/walkway/in", "walkway in"},
                                                       {"sf/vtest/lines/walkway/out", "walkway out"},
                                                       {"sf/vtest/zones/all", "all occupancy"}}));
}

TEST(MqttCli, AKilledRunIsMarkedOfflineByItsLastWill) {
  MosquittoBroker broker;
  MqttSubscriber live(broker, {"sf/#"});
  test::TempDir dir;
  test::ChildProcess run(
      {test::sightflow_bin(), "run", "--source", test::vtest_path(), "--loop", "--detector", "hog", "--out",
       (dir / "r.jsonl").string(), "--mqtt", broker.url(), "--mqtt-prefix", "sf", "--no-progress"},
      (dir / "log.txt").string(), (dir / "log.txt").string());
  ASSERT_TRUE(live.wait_for([](const auto& m) { return !last_payload(m, "sf/vtest/person").empty(); }))
      << test::read_file(dir / "log.txt");
  EXPECT_EQ(live.payloads("sf/availability"), (std::vector<std::string>{"online"}));

  run.kill_hard();  // no goodbye: the broker publishes the last will
  ASSERT_TRUE(live.wait_for([](const auto& m) { return last_payload(m, "sf/availability") == "offline"; }))
      << broker.log();
  // The stream was never told to stop: "offline" came from the broker, not from a clean close.
  MqttSubscriber late(broker, {"sf/#"});
  ASSERT_TRUE(late.wait_for([](const auto& m) { return !last_payload(m, "sf/vtest/state").empty(); }));
  EXPECT_EQ(last_payload(late.messages(), "sf/vtest/state"), "running");
  EXPECT_EQ(last_payload(late.messages(), "sf/availability"), "offline");
}

TEST(MqttCli, ABadBrokerUrlFailsBeforeTheRunStarts) {
  test::TempDir dir;
  std::string output;
  int rc = test::run_command(
      {test::sightflow_bin(), "run", "--source", test::vtest_path(), "--max-frames", "1", "--out",
       (dir / "r.jsonl").string(), "--mqtt", "mqtt://cam:s3cret@broker:99999", "--no-progress"},
      &output);
  EXPECT_NE(rc, 0);
  EXPECT_NE(output.find("sinks.mqtt.url"), std::string::npos) << output;
  EXPECT_NE(output.find("port must be a number 1..65535"), std::string::npos) << output;
  EXPECT_EQ(output.find("s3cret"), std::string::npos) << output;
  EXPECT_FALSE(std::filesystem::exists(dir / "r.jsonl"));
}
