// The MQTT sink's pure pieces: broker URLs and topic names.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "sink/mqtt_topics.hpp"
#include "sink/mqtt_url.hpp"

using namespace sf;

namespace {

std::string url_error(const std::string& url) {
  try {
    parse_mqtt_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
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
