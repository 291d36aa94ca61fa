#include "sink/mqtt_url.hpp"

#include <stdexcept>

namespace sf {
namespace {

// The URL as errors show it: a password is replaced by "***".
std::string without_password(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return url;
  start += 3;
  auto at = url.find('@', start);
  auto end_of_authority = url.find_first_of("/?#", start);
  if (at == std::string::npos || (end_of_authority != std::string::npos && at > end_of_authority)) return url;
  auto colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes let a user name or password hold ':', '@' or '/'.
std::string percent_decode(const std::string& text, const std::string& what, const auto& fail) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (high < 0 || low < 0) fail("bad %-escape in the " + what + " (write '%' as %25)");
    out += char(high * 16 + low);
    i += 2;
  }
  return out;
}

}  // namespace

std::string MqttBroker::describe() const {
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(tls ? "mqtts" : "mqtt") + "://" + (username.empty() ? "" : username + "@") + host_part +
         ":" + std::to_string(port);
}

MqttBroker parse_mqtt_url(const std::string& url) {
  auto fail = [&](const std::string& problem) {
    throw std::invalid_argument("MQTT broker URL '" + without_password(url) + "': " + problem);
  };
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) fail("expected mqtt://[USER[:PASSWORD]@]HOST[:PORT] (or mqtts://)");
  auto scheme = url.substr(0, scheme_end);
  MqttBroker broker;
  if (scheme == "mqtts") {
    broker.tls = true;
    broker.port = 8883;
  } else if (scheme != "mqtt") {
    fail("unsupported scheme '" + scheme + "' (expected mqtt:// or mqtts://)");
  }

  auto rest = url.substr(scheme_end + 3);
  auto path = rest.find_first_of("/?#");
  auto authority = rest.substr(0, path);
  if (path != std::string::npos && rest.substr(path) != "/")
    fail("a broker URL has no path or query: the topic prefix is an option of its own (topic_prefix)");

  if (auto at = authority.rfind('@'); at != std::string::npos) {
    auto credentials = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = credentials.find(':');
    broker.username = percent_decode(credentials.substr(0, colon), "user name", fail);
    if (colon != std::string::npos)
      broker.password = percent_decode(credentials.substr(colon + 1), "password", fail);
    if (broker.username.empty()) fail("empty user name before '@'");
  }

  std::string port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:1883
    auto close = authority.find(']');
    if (close == std::string::npos) fail("unclosed '[' in the host");
    broker.host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail("expected ':PORT' after the host");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    auto colon = authority.rfind(':');
    broker.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (broker.host.empty()) fail("missing host");
  if (has_port) {
    size_t used = 0;
    int port = 0;
    try {
      port = std::stoi(port_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (port_text.empty() || used != port_text.size() || port < 1 || port > 65535)
      fail("port must be a number 1..65535, got '" + port_text + "'");
    broker.port = port;
  }
  return broker;
}

}  // namespace sf
