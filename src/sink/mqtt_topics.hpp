#pragma once
// The MQTT sink's topic layout, in one place (docs/CONFIG.md, "MQTT sink"), below a prefix (`sightflow`):
//   PREFIX/availability              online | offline (retained; the last will says offline)
//   PREFIX/events                    one JSON object per event (line crossed, zone entered, ...)
//   PREFIX/STREAM/state              running | stopped
//   PREFIX/STREAM/LABEL              objects of that label in the stream's newest result
//   PREFIX/STREAM/lines/LINE/in|out  crossings so far
//   PREFIX/STREAM/zones/ZONE         objects inside now
// Names come from configuration and models, so each becomes one safe topic level (mqtt_topic_level).
// Pure functions: safe from any thread.
#include <string>

namespace sf {

// `name` as one topic level: '/', '+', '#' (they would split or widen it) and control characters become
// '_'; an empty name becomes "_".
std::string mqtt_topic_level(const std::string& name);

// Throws std::invalid_argument saying why `prefix` cannot start topics (empty, '+' or '#', a leading '$',
// '/' at either end, not UTF-8).
void check_topic_prefix(const std::string& prefix);

class MqttTopics {
 public:
  explicit MqttTopics(std::string prefix) : prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }
  std::string availability() const { return prefix_ + "/availability"; }
  std::string events() const { return prefix_ + "/events"; }
  std::string stream_state(const std::string& stream) const;
  std::string label_count(const std::string& stream, const std::string& label) const;
  std::string line_count(const std::string& stream, const std::string& line,
                         const std::string& direction) const;
  std::string zone_count(const std::string& stream, const std::string& zone) const;

 private:
  std::string stream_level(const std::string& stream) const;
  std::string prefix_;
};

}  // namespace sf
