#include "store/schema.hpp"

namespace sf::schema {

std::vector<std::string> migrations(Dialect dialect) {
  // Times are unix seconds (REAL / double precision); `ts` is when the frame was captured, so results,
  // frames and roll-ups of one frame share it even when the result is computed later (replay).
  const std::string real = dialect == Dialect::Sqlite ? "REAL" : "DOUBLE PRECISION";
  const std::string integer = dialect == Dialect::Sqlite ? "INTEGER" : "BIGINT";
  std::string v1 =
      "CREATE TABLE streams(name TEXT PRIMARY KEY, first_ts " + real + ", last_ts " + real +
      ");\n"
      "CREATE TABLE frames(stream TEXT NOT NULL, seq " +
      integer + " NOT NULL, pts " + real + ", ts " + real +
      ", width INTEGER, height INTEGER, archive_path TEXT, archive_bytes " + integer +
      ", PRIMARY KEY(stream, seq));\n"
      "CREATE INDEX frames_archived ON frames(ts) WHERE archive_path IS NOT NULL;\n"
      "CREATE TABLE results(stream TEXT NOT NULL, algo TEXT NOT NULL, frame " +
      integer + " NOT NULL, pts " + real + ", ts " + real +
      " NOT NULL, count INTEGER NOT NULL, json TEXT NOT NULL,"
      " UNIQUE(stream, algo, frame));\n"
      "CREATE INDEX results_ts ON results(ts);\n"
      "CREATE TABLE detections(stream TEXT NOT NULL, algo TEXT NOT NULL, frame " +
      integer + " NOT NULL, label TEXT NOT NULL, score " + real + ", x " + real + ", y " + real + ", w " +
      real + ", h " + real +
      ");\n"
      "CREATE INDEX detections_result ON detections(stream, algo, frame);\n"
      "CREATE INDEX detections_label ON detections(label);\n"
      // Per label, the results of a bucket in which it appeared (see `counts` for the zero-filled view).
      "CREATE TABLE rollups(stream TEXT NOT NULL, algo TEXT NOT NULL, label TEXT NOT NULL, level TEXT NOT "
      "NULL, bucket " +
      real + " NOT NULL, samples " + integer + " NOT NULL, sum " + integer + " NOT NULL, min " + integer +
      " NOT NULL, max " + integer +
      " NOT NULL, PRIMARY KEY(stream, algo, label, level, bucket));\n"
      // Counts per bucket over all results of the (stream, algo): a label absent from a result counted 0.
      "CREATE VIEW counts AS SELECT r.stream, r.algo, r.label, r.level, r.bucket, t.samples,"
      " CAST(r.sum AS " +
      real +
      ") / t.samples AS avg,"
      " CASE WHEN r.samples < t.samples THEN 0 ELSE r.min END AS min, r.max, r.sum"
      " FROM rollups r JOIN rollups t ON t.stream = r.stream AND t.algo = r.algo AND t.level = r.level"
      " AND t.bucket = r.bucket AND t.label = '*';\n";
  // v2: identities and events from analysis stages (tracking, lines, zones). Events are written with
  // their result, so a result stored once stores its events once.
  std::string v2 = "ALTER TABLE detections ADD COLUMN track_id " + integer +
                   ";\n"
                   "CREATE TABLE events(stream TEXT NOT NULL, algo TEXT NOT NULL, frame " +
                   integer + " NOT NULL, pts " + real + ", ts " + real +
                   " NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL, track_id " + integer +
                   ", label TEXT, direction TEXT, dwell " + real +
                   ");\n"
                   "CREATE INDEX events_ts ON events(ts);\n"
                   "CREATE INDEX events_result ON events(stream, algo, frame);\n";
  // v3: roll-ups of what the counting stages report, per bucket like `rollups`: line crossings (sums of
  // the "line" events of the bucket's results) and zone occupancy (samples, sum, min, max of the counts).
  // `samples` counts the results of the bucket, so a bucket without crossings reads 0, not nothing.
  std::string v3 =
      "CREATE TABLE line_rollups(stream TEXT NOT NULL, algo TEXT NOT NULL, line TEXT NOT NULL, level TEXT "
      "NOT NULL, bucket " +
      real + " NOT NULL, samples " + integer + " NOT NULL, crossings_in " + integer +
      " NOT NULL, crossings_out " + integer +
      " NOT NULL, PRIMARY KEY(stream, algo, line, level, bucket));\n"
      "CREATE TABLE zone_rollups(stream TEXT NOT NULL, algo TEXT NOT NULL, zone TEXT NOT NULL, level TEXT "
      "NOT NULL, bucket " +
      real + " NOT NULL, samples " + integer + " NOT NULL, sum " + integer + " NOT NULL, min " + integer +
      " NOT NULL, max " + integer + " NOT NULL, PRIMARY KEY(stream, algo, zone, level, bucket));\n";
  return {v1, v2, v3};
}

}  // namespace sf::schema
