#include "cli/output_flags.hpp"

namespace sf::cli {

void OutputFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--out", out,
                 "JSON Lines results file, '-' for stdout (default sightflow-out/results.jsonl)");
  cmd.add_option("--video-out", video_out, "annotated video file (.mp4, .mkv, .avi)");
  cmd.add_option("--video-segment", video_segment,
                 "cut the video into NAME-000.mp4, ... of this many seconds")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--video-keep", video_keep, "with --video-segment: keep only the newest N segments")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--events-out", events_out, "events (line crossings, zone enter/exit/loiter) as JSON Lines");
  cmd.add_option("--mot-out", mot_out, "tracks as MOTChallenge text (frame,id,x,y,w,h,score,-1,-1,-1)");
  add_db_flag(cmd, db, "results store (default with no --source: sightflow-out/sightflow.db)");
  cmd.add_option("--archive", archive_dir, "keep analysed frames with detections as JPEG in this folder");
  cmd.add_option("--archive-every", archive_every, "also keep every Nth analysed frame without detections")
      ->check(CLI::NonNegativeNumber);
  cmd.add_flag("--archive-annotated", archive_annotated, "also keep an annotated copy of archived frames");
  cmd.add_option("--archive-max-mb", archive_max_mb,
                 "archive size bound; the oldest frames go first (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_webhook_flags(cmd, webhook);
  cmd.add_option(
      "--mqtt", mqtt_url,
      "publish counts, events and Home Assistant discovery to this broker: "
      "mqtt://[USER[:PASSWORD]@]HOST[:PORT] or mqtts:// (password also from $SIGHTFLOW_MQTT_PASSWORD)");
  cmd.add_option("--mqtt-prefix", mqtt_prefix, "MQTT topic prefix (default sightflow)");
}

CLI::Option* add_db_flag(CLI::App& cmd, std::string& db, const std::string& what) {
  return cmd.add_option("--db", db, "SQLite file or postgresql:// URL: " + what);
}

namespace {

// A file sink's flag, when given.
void set_path(SinkConfig& sinks, const std::string& type, const std::string& path) {
  if (!path.empty()) sinks.set(type, path);
}

}  // namespace

void OutputFlags::apply_shared(const CLI::App& cmd, SinkConfig& sinks) const {
  // --archive DIR [--archive-every N] [--archive-annotated] [--archive-max-mb MB]: the store sink's archive
  // options.
  if (!archive_dir.empty()) {
    auto options = sinks.object_options("db", "path");
    if (options.empty())
      throw ConfigError("a frame archive needs a results store (sinks.db / --db) to index its files");
    auto& archive = options["archive"];
    archive["dir"] = archive_dir;
    archive["keep_every"] = archive_every;
    archive["annotated"] = archive_annotated;
    if (cmd.count("--archive-max-mb")) archive["max_mb"] = archive_max_mb;
    sinks.set("db", options);
  }
  // --video-segment S [--video-keep N]: options of the video sink (given by a flag or the config).
  if (cmd.count("--video-segment") || cmd.count("--video-keep")) {
    auto options = sinks.object_options("video", "path");
    if (options.empty()) throw ConfigError("--video-segment and --video-keep need a video (--video-out)");
    if (cmd.count("--video-segment")) options["segment"] = video_segment;
    if (cmd.count("--video-keep")) options["keep"] = video_keep;
    sinks.set("video", options);
  }
  set_path(sinks, "events", events_out);
  set_path(sinks, "mot", mot_out);
  apply_webhook_flags(cmd, webhook, sinks);
  // --mqtt URL [--mqtt-prefix P]: over a config's mqtt sink, whose other options stay.
  auto mqtt = sinks.object_options("mqtt", "url");
  if (cmd.count("--mqtt")) mqtt["url"] = mqtt_url;
  if (cmd.count("--mqtt-prefix")) mqtt["topic_prefix"] = mqtt_prefix;
  if (!mqtt.empty()) sinks.set("mqtt", mqtt);
}

void OutputFlags::fill(const CLI::App& cmd, SinkConfig& sinks, bool embedded_default) const {
  set_path(sinks, "jsonl", out.empty() ? "sightflow-out/results.jsonl" : out);
  set_path(sinks, "video", video_out.empty() && embedded_default ? "sightflow-out/annotated.mp4" : video_out);
  set_path(sinks, "db", db.empty() && embedded_default ? "sightflow-out/sightflow.db" : db);
  apply_shared(cmd, sinks);
}

void OutputFlags::override(const CLI::App& cmd, SinkConfig& sinks) const {
  if (cmd.count("--out")) sinks.set("jsonl", out);
  if (cmd.count("--video-out")) {
    auto options = sinks.object_options("video", "path");  // a config's segment and keep stay
    options["path"] = video_out;
    sinks.set("video", options);
  }
  if (cmd.count("--db")) {
    // The path changes; a config's retention and archive stay.
    auto options = sinks.object_options("db", "path");
    options["path"] = db;
    sinks.set("db", options);
  }
  apply_shared(cmd, sinks);
}

}  // namespace sf::cli
