#pragma once
// The web server's flags, shared by `sightflow run --serve` and `sightflow serve`.
#include <CLI/CLI.hpp>
#include <string>

#include "sightflow/config.hpp"
#include "source/source_policy.hpp"
#include "web/web_server.hpp"

namespace sf::cli {

struct WebFlags {
  std::string token;  // default: $SIGHTFLOW_TOKEN
  double video_fps = 10;
  int max_viewers = 0;  // 0: half the server's threads
  double idle_timeout_s = 5;
  double request_timeout_s = 10;
  TlsFiles tls;  // --tls-cert, --tls-key
  SourceRules
      sources;  // --allow-source-scheme, --allow-source-host, --allow-source-dir, --allow-source-device
};

struct WebhookFlags {
  std::string url, dead_letter, ca_file;
  bool only_changes = false;
};

void add_web_flags(CLI::App& cmd, WebFlags& flags);  // also the source allow-list flags
// --webhook URL, --webhook-only-changes, --webhook-dead-letter FILE, --webhook-ca-file FILE.
void add_webhook_flags(CLI::App& cmd, WebhookFlags& webhook);
// The webhook flags given on `cmd`, over the webhook sink `sinks` may hold already (a config's).
void apply_webhook_flags(const CLI::App& cmd, const WebhookFlags& webhook, SinkConfig& sinks);
// HOST:PORT of `flag` plus the flags -> options (the token falls back to $SIGHTFLOW_TOKEN).
WebOptions web_options(const WebFlags& flags, const std::string& listen, const std::string& flag);

}  // namespace sf::cli
