#include "cli/web_flags.hpp"

#include <cstdlib>

#include "http/listen.hpp"
#include "source/source_policy.hpp"

namespace sf::cli {

namespace {

// What sources POST /api/streams may name (docs/SECURITY.md, "Sources from the API"); the run's own
// --source is not subject to them.
void add_source_rule_flags(CLI::App& cmd, SourceRules& rules) {
  std::string schemes;
  for (const auto& s : rules.schemes) schemes += (schemes.empty() ? "" : ",") + s;
  cmd.add_option("--allow-source-scheme", rules.schemes,
                 "URL schemes API-started streams may use (comma-separated; default " + schemes + ")")
      ->delimiter(',');
  cmd.add_option("--allow-source-host", rules.hosts,
                 "hosts API-started streams may reach: CIDR, address or name pattern (*.cams.lan); "
                 "repeatable; default any host outside loopback, link-local and multicast, which only an "
                 "address or CIDR given here reaches")
      ->delimiter(',')
      ->check([](const std::string& pattern) {
        try {
          check_host_pattern(pattern);
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      });
  cmd.add_option("--allow-source-dir", rules.dirs,
                 "folder whose files API-started streams may read (repeatable; default none)");
  cmd.add_option("--allow-source-device", rules.devices,
                 "device path or pattern API-started streams may open, e.g. '/dev/video*' (repeatable; "
                 "default none)");
}

}  // namespace

void add_web_flags(CLI::App& cmd, WebFlags& f) {
  cmd.add_option("--token", f.token,
                 "token that POST/DELETE requests must send (Authorization: Bearer TOKEN); default "
                 "$SIGHTFLOW_TOKEN; required to listen beyond 127.0.0.1");
  cmd.add_option("--video-fps", f.video_fps, "MJPEG frames per second per viewer, at most")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--max-viewers", f.max_viewers,
                 "MJPEG viewers served at once, 503 beyond; each holds one of the server's threads "
                 "(default: half of them, so API calls always find one)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--idle-timeout", f.idle_timeout_s,
                 "seconds a kept-alive connection may wait for its next request before it is closed")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--request-timeout", f.request_timeout_s,
                 "seconds a request's line and headers may take to arrive (slow clients are dropped)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  auto* cert = cmd.add_option("--tls-cert", f.tls.cert, "serve https with this PEM certificate (chain)")
                   ->check(CLI::ExistingFile);
  auto* key =
      cmd.add_option("--tls-key", f.tls.key, "the PEM private key of --tls-cert")->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  add_source_rule_flags(cmd, f.sources);
}

void add_webhook_flags(CLI::App& cmd, WebhookFlags& w) {
  cmd.add_option("--webhook", w.url, "POST each result as JSON to this http(s):// URL (see docs/WEB.md)");
  cmd.add_flag("--webhook-only-changes", w.only_changes,
               "webhook: send a result only when its count differs from the previous one");
  cmd.add_option("--webhook-dead-letter", w.dead_letter,
                 "webhook: results that could not be delivered (default sightflow-out/webhook-dead.jsonl)");
  cmd.add_option("--webhook-ca-file", w.ca_file,
                 "webhook: PEM certificates to trust for https (default: the system's CAs)")
      ->check(CLI::ExistingFile);
}

void apply_webhook_flags(const CLI::App& cmd, const WebhookFlags& w, SinkConfig& sinks) {
  auto options = sinks.object_options("webhook", "url");
  if (cmd.count("--webhook")) options["url"] = w.url;
  if (cmd.count("--webhook-only-changes")) options["only_changes"] = true;
  if (cmd.count("--webhook-dead-letter")) options["dead_letter"] = w.dead_letter;
  if (cmd.count("--webhook-ca-file")) options["ca_file"] = w.ca_file;
  if (!options.empty()) sinks.set("webhook", options);
}

WebOptions web_options(const WebFlags& f, const std::string& listen, const std::string& flag) {
  WebOptions o;
  std::tie(o.host, o.port) = parse_listen_address(listen, flag);
  o.token = f.token;
  if (o.token.empty())
    if (const char* env = std::getenv("SIGHTFLOW_TOKEN")) o.token = env;
  o.video_fps = f.video_fps;
  o.max_viewers = f.max_viewers;
  o.idle_timeout_s = f.idle_timeout_s;
  o.request_timeout_s = f.request_timeout_s;
  o.tls = f.tls;
  return o;
}

}  // namespace sf::cli
