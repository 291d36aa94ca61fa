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
}

void add_webhook_flags(CLI::App& cmd, WebhookFlags& w) {
  cmd.add_option("--webhook", w.url, "POST each result as JSON to this http:// URL (see docs/WEB.md)");
  cmd.add_flag("--webhook-only-changes", w.only_changes,
               "webhook: send a result only when its count differs from the previous one");
  cmd.add_option("--webhook-dead-letter", w.dead_letter,
                 "webhook: results that could not be delivered (default sightflow-out/webhook-dead.jsonl)");
}

void apply_webhook_flags(const CLI::App& cmd, const WebhookFlags& w, SinkConfig& sinks) {
  auto options = sinks.object_options("webhook", "url");
  if (cmd.count("--webhook")) options["url"] = w.url;
  if (cmd.count("--webhook-only-changes")) options["only_changes"] = true;
  if (cmd.count("--webhook-dead-letter")) options["dead_letter"] = w.dead_letter;
  if (!options.empty()) sinks.set("webhook", options);
}

WebOptions web_options(const WebFlags& f, const std::string& listen, const std::string& flag) {
  WebOptions o;
  std::tie(o.host, o.port) = parse_listen_address(listen, flag);
  o.token = f.token;
  if (o.token.empty())
    if (const char* env = std::getenv("SIGHTFLOW_TOKEN")) o.token = env;
  o.video_fps = f.video_fps;
  return o;
}

}  // namespace sf::cli
