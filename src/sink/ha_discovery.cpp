#include "sink/ha_discovery.hpp"

#include <spdlog/fmt/fmt.h>

#include "common/stable_hash.hpp"

namespace sf {

std::string ha_id(const std::string& text) {
  std::string id = text;
  for (auto& c : id) {
    bool keep =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!keep) c = '_';
  }
  return id;
}

namespace {

// Readable, and unique even where two names read alike once made ids ("a b" and "a_b"): the hash of the
// exact text it stands for is appended. Stable across runs, so Home Assistant keeps its entities.
std::string unique_id(const std::string& readable, const std::string& exact) {
  return ha_id(readable) + fmt::format("_{:08x}", stable_hash(exact));
}

}  // namespace

HaDiscoveryMessage ha_sensor_config(const HaSensor& sensor, const std::string& discovery_prefix,
                                    const std::string& topic_prefix, const std::string& availability_topic) {
  auto node = ha_id(topic_prefix);
  // The state topic below the prefix ("cam/lines/door/in") reads well as an id.
  auto below_prefix = sensor.state_topic.substr(std::min(sensor.state_topic.size(), topic_prefix.size() + 1));
  auto object = unique_id(below_prefix, sensor.state_topic);

  nlohmann::ordered_json payload;
  payload["name"] = sensor.name;
  payload["unique_id"] = node + "_" + object;
  payload["state_topic"] = sensor.state_topic;
  if (!sensor.state_class.empty()) payload["state_class"] = sensor.state_class;
  payload["availability_topic"] = availability_topic;
  payload["payload_available"] = "online";
  payload["payload_not_available"] = "offline";
  payload["device"] = {
      {"identifiers", {node + "_" + unique_id(sensor.stream, topic_prefix + "/" + sensor.stream)}},
      {"name", sensor.stream},
      {"manufacturer", "sightflow"},
      {"model", "video analytics stream"}};
  payload["origin"] = {{"name", "sightflow"}};
  return {discovery_prefix + "/sensor/" + node + "/" + object + "/config", std::move(payload)};
}

}  // namespace sf
