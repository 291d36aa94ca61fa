#pragma once
// The `db` sink's options: `PATH or postgresql:// URL`, or {path, retention: {raw, 1s, 1m, 1h},
// archive: {dir, keep_detections, keep_every, annotated, max_age, max_mb, quality}} (docs/CONFIG.md; a
// config writes retention and archive beside `db:`, the YAML reader folds them in).
#include <nlohmann/json.hpp>
#include <string>

#include "sightflow/store.hpp"

namespace sf {

struct StoreSinkConfig {
  std::string location;  // SQLite file or postgresql:// URL
  StoreSinkOptions options;
};

// Throws SinkOptionError naming the key.
StoreSinkConfig read_store_sink_options(const nlohmann::json& options);

}  // namespace sf
