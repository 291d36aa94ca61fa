#pragma once
// Where an MQTT broker is: mqtt://[user[:password]@]host[:port] (mqtts:// for TLS), as mosquitto_pub's -L
// and most MQTT clients take it. The URL comes from configuration or a flag, so every way it can be
// wrong is named. Pure functions: safe from any thread.
#include <string>

namespace sf {

struct MqttBroker {
  std::string host;  // without brackets for IPv6 literals
  int port = 1883;   // 8883 for mqtts://
  bool tls = false;
  std::string username, password;  // percent-decoded; empty: anonymous

  // "mqtt[s]://[user@]host:port" for logs and errors: never the password.
  std::string describe() const;
};

// Throws std::invalid_argument naming the URL (password hidden) and what is wrong: another scheme, no
// host, a port outside 1..65535, a path or query (topics are set apart), a bad %-escape.
MqttBroker parse_mqtt_url(const std::string& url);

}  // namespace sf
