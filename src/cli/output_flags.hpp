#pragma once
// The flags that say where results go, declared once: the files (--out, --video-out with --video-segment
// and --video-keep, --events-out, --mot-out), the store (--db, --archive, --archive-every,
// --archive-annotated, --archive-max-mb), the webhook (--webhook...) and MQTT (--mqtt, --mqtt-prefix). They
// fill the run's sink list (SinkConfig), the same description YAML's `sinks:` gives, and are built by the
// sink registry.
#include <CLI/CLI.hpp>
#include <string>

#include "cli/web_flags.hpp"
#include "sightflow/config.hpp"
#include "sightflow/store.hpp"  // kDefaultArchiveMaxBytes

namespace sf::cli {

struct OutputFlags {
  std::string out, video_out, events_out, mot_out;
  double video_segment = 0;
  int video_keep = 0;
  std::string db, archive_dir;
  int archive_every = 0;
  bool archive_annotated = false;
  double archive_max_mb = double(kDefaultArchiveMaxBytes) / 1e6;
  WebhookFlags webhook;
  std::string mqtt_url, mqtt_prefix;

  void add_to(CLI::App& cmd);
  // The sinks of a run described by flags. `embedded_default` (no --source): a video and a store in
  // sightflow-out/ unless given.
  void fill(const CLI::App& cmd, SinkConfig& sinks, bool embedded_default) const;
  // Flags given beside --config replace or add to the file's sinks (a --db keeps the file's retention
  // and archive).
  void override(const CLI::App& cmd, SinkConfig& sinks) const;

 private:
  void apply_shared(const CLI::App& cmd, SinkConfig& sinks) const;
};

// --db for the commands that only write or read a store (worker, replay, query, serve).
CLI::Option* add_db_flag(CLI::App& cmd, std::string& db, const std::string& what);

}  // namespace sf::cli
