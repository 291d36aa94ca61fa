#include "sink/mqtt_topics.hpp"

#include <mosquitto.h>

#include <stdexcept>

namespace sf {

std::string mqtt_topic_level(const std::string& name) {
  if (name.empty()) return "_";
  std::string level = name;
  for (auto& c : level) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '/' || c == '+' || c == '#' || byte < 0x20 || byte == 0x7f) c = '_';
  }
  return level;
}

void check_topic_prefix(const std::string& prefix) {
  auto fail = [&](const std::string& problem) {
    throw std::invalid_argument("topic prefix '" + prefix + "': " + problem);
  };
  if (prefix.empty()) fail("must not be empty");
  if (prefix.find_first_of("+#") != std::string::npos)
    fail("'+' and '#' are wildcards, not topic characters");
  if (prefix.front() == '$') fail("topics starting with '$' belong to the broker");
  if (prefix.front() == '/' || prefix.back() == '/') fail("must not start or end with '/'");
  if (mosquitto_pub_topic_check(prefix.c_str()) != MOSQ_ERR_SUCCESS)
    fail("not a topic MQTT accepts (valid UTF-8, at most 65535 bytes)");
}

// The fixed topics of the prefix's level stay apart from streams: a stream named `events` publishes under
// `events_`. Likewise a label named `state` below.
std::string MqttTopics::stream_level(const std::string& stream) const {
  auto level = mqtt_topic_level(stream);
  return level == "events" || level == "availability" ? level + "_" : level;
}

std::string MqttTopics::stream_state(const std::string& stream) const {
  return prefix_ + "/" + stream_level(stream) + "/state";
}

std::string MqttTopics::label_count(const std::string& stream, const std::string& label) const {
  auto level = mqtt_topic_level(label);
  if (level == "state") level += "_";
  return prefix_ + "/" + stream_level(stream) + "/" + level;
}

std::string MqttTopics::line_count(const std::string& stream, const std::string& line,
                                   const std::string& direction) const {
  return prefix_ + "/" + stream_level(stream) + "/lines/" + mqtt_topic_level(line) + "/" + direction;
}

std::string MqttTopics::zone_count(const std::string& stream, const std::string& zone) const {
  return prefix_ + "/" + stream_level(stream) + "/zones/" + mqtt_topic_level(zone);
}

}  // namespace sf
