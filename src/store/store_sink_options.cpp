#include "store/store_sink_options.hpp"

#include "sightflow/sink_options.hpp"

namespace sf {

StoreSinkConfig read_store_sink_options(const nlohmann::json& options) {
  SinkOptionReader r(options, "path");
  r.only_keys({"path", "retention", "archive"});
  StoreSinkConfig c;
  c.location = r.required_text("path", "a SQLite file or postgresql:// URL");
  auto& o = c.options;
  if (r.has("retention")) {
    auto retention = r.object("retention");
    retention.only_keys({"raw", "1s", "1m", "1h"});
    o.retention.raw_seconds = retention.number("raw", o.retention.raw_seconds);
    for (size_t i = 0; i < std::size(kRollupLevels); ++i)
      o.retention.rollup_seconds[i] = retention.number(kRollupLevels[i].name, o.retention.rollup_seconds[i]);
  }
  if (r.has("archive")) {
    auto archive = r.object("archive");
    archive.only_keys({"dir", "keep_detections", "keep_every", "annotated", "max_age", "max_mb", "quality"});
    o.archive_dir = archive.required_text("dir", "the folder for archived frames");
    auto& a = o.archive;
    a.keep_detections = archive.boolean("keep_detections", a.keep_detections);
    a.keep_every = int(archive.integer("keep_every", a.keep_every));
    a.annotated = archive.boolean("annotated", a.annotated);
    a.max_age_s = archive.number("max_age", a.max_age_s);
    a.max_bytes = int64_t(archive.number("max_mb", double(a.max_bytes) / 1e6) * 1e6);
    if (a.max_bytes < 0) archive.fail("max_mb", "must not be negative (0: no limit)");
    a.quality = int(archive.integer("quality", a.quality));
    if (a.keep_every < 0) archive.fail("keep_every", "must not be negative");
    if (a.quality < 1 || a.quality > 100) archive.fail("quality", "must be 1..100");
  }
  return c;
}

}  // namespace sf
