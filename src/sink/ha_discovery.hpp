#pragma once
// Home Assistant MQTT discovery: a retained config message per sensor under
// DISCOVERY_PREFIX/sensor/NODE/OBJECT/config, so that each count appears in Home Assistant by itself,
// grouped as one device per stream and unavailable while sightflow is not connected (its availability
// topic). https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
// Pure functions: safe from any thread.
#include <nlohmann/json.hpp>
#include <string>

namespace sf {

struct HaSensor {
  std::string stream;       // the device it belongs to
  std::string name;         // shown after the device's name: "person", "door in", "lawn occupancy"
  std::string state_topic;  // where its value is published; also what makes it unique
  // "measurement" (a level that goes up and down), "total_increasing" (a count since start; a drop is a
  // new run) or "" (text, such as the stream's state).
  std::string state_class;
};

struct HaDiscoveryMessage {
  std::string topic;
  nlohmann::ordered_json payload;
};

// `topic_prefix` (sightflow's own, e.g. "sightflow") names the node and the availability topic.
HaDiscoveryMessage ha_sensor_config(const HaSensor& sensor, const std::string& discovery_prefix,
                                    const std::string& topic_prefix, const std::string& availability_topic);

// `text` as a Home Assistant id: letters, digits, '_' and '-' kept, anything else '_'.
std::string ha_id(const std::string& text);

}  // namespace sf
