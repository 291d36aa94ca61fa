#include "cli/web_flags.hpp"

#include <cstdlib>

#include "http/listen.hpp"

namespace sf::cli {

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
