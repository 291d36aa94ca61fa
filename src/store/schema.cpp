#include "store/schema.hpp"

#include <utility>

namespace sf::schema {

namespace {

// The `counts` view of v4: v1's, per clock.
std::string counts_view(const std::string& real) {
  return "CREATE VIEW counts AS SELECT r.stream, r.algo, r.label, r.clock, r.level, r.bucket, t.samples,"
         " CAST(r.sum AS " +
         real +
         ") / t.samples AS avg,"
         " CASE WHEN r.samples < t.samples THEN 0 ELSE r.min END AS min, r.max, r.sum"
         " FROM rollups r JOIN rollups t ON t.stream = r.stream AND t.algo = r.algo AND t.clock = r.clock"
         " AND t.level = r.level AND t.bucket = r.bucket AND t.label = '*';\n";
}

// v4: the media clock. Offline, a file is read as fast as it decodes, so buckets of capture time follow the
// processing speed; every result now also adds its samples to buckets of its media time (pts: seconds
// since the stream started, monotonic across loops and reconnects). Roll-up rows say which clock their
// bucket is on (`clock` 'wall' | 'media', part of the key); existing rows are 'wall'. `streams.clock` is
// the clock a stream's series use when a reader does not name one (written by the store sink: 'media' for
// an offline run, 'wall' in real time). The media roll-ups of the counts are rebuilt from the raw results
// still stored; line and zone roll-ups get media buckets from new results on (their samples come from the
// results' JSON, which the two dialects read differently).
std::string v4(Dialect dialect) {
  const bool sqlite = dialect == Dialect::Sqlite;
  const std::string real = sqlite ? "REAL" : "DOUBLE PRECISION";
  const std::string integer = sqlite ? "INTEGER" : "BIGINT";
  struct Table {
    std::string name, key;            // `key`: the column naming what is counted
    std::vector<std::string> values;  // the integer columns after bucket
  };
  const Table tables[] = {
      {"rollups", "label", {"samples", "sum", "min", "max"}},
      {"line_rollups", "line", {"samples", "crossings_in", "crossings_out"}},
      {"zone_rollups", "zone", {"samples", "sum", "min", "max"}},
  };
  std::string sql = "DROP VIEW counts;\n";
  for (const auto& t : tables) {
    const std::string primary_key = "(stream, algo, " + t.key + ", clock, level, bucket)";
    if (sqlite) {
      // SQLite cannot change a primary key: the table is rebuilt, its columns kept in order, clock last
      // (where PostgreSQL's ADD COLUMN puts it).
      std::string declared, listed;
      for (const auto& v : t.values) {
        declared += ", " + v + " " + integer + " NOT NULL";
        listed += ", " + v;
      }
      sql += "CREATE TABLE " + t.name + "_v4(stream TEXT NOT NULL, algo TEXT NOT NULL, " + t.key +
             " TEXT NOT NULL, level TEXT NOT NULL, bucket " + real + " NOT NULL" + declared +
             ", clock TEXT NOT NULL DEFAULT 'wall', PRIMARY KEY" + primary_key + ");\n";
      sql += "INSERT INTO " + t.name + "_v4 SELECT stream, algo, " + t.key + ", level, bucket" + listed +
             ", 'wall' FROM " + t.name + ";\n";
      sql += "DROP TABLE " + t.name + ";\nALTER TABLE " + t.name + "_v4 RENAME TO " + t.name + ";\n";
    } else {
      sql += "ALTER TABLE " + t.name + " ADD COLUMN clock TEXT NOT NULL DEFAULT 'wall';\n";
      sql += "ALTER TABLE " + t.name + " DROP CONSTRAINT " + t.name + "_pkey;\n";
      sql += "ALTER TABLE " + t.name + " ADD PRIMARY KEY" + primary_key + ";\n";
    }
  }
  sql += counts_view(real);
  sql += "ALTER TABLE streams ADD COLUMN clock TEXT;\n";
  // Media buckets of the stored results (the levels as they were when v4 was written: 1 s, 1 min, 1 h).
  const std::pair<std::string, std::string> levels[] = {{"1s", "1"}, {"1m", "60"}, {"1h", "3600"}};
  for (const auto& [level, seconds] : levels) {
    const std::string bucket = "floor(r.pts / " + seconds + ") * " + seconds;
    sql +=
        "INSERT INTO rollups(stream, algo, label, level, bucket, samples, sum, min, max, clock)"
        " SELECT r.stream, r.algo, '*', '" +
        level + "', " + bucket +
        ", count(*), sum(r.count), min(r.count), max(r.count), 'media' FROM results r"
        " WHERE r.pts IS NOT NULL GROUP BY r.stream, r.algo, " +
        bucket + ";\n";
    sql +=
        "INSERT INTO rollups(stream, algo, label, level, bucket, samples, sum, min, max, clock)"
        " SELECT r.stream, r.algo, d.label, '" +
        level + "', " + bucket +
        ", count(*), sum(d.n), min(d.n), max(d.n), 'media' FROM results r JOIN"
        " (SELECT stream, algo, frame, label, count(*) AS n FROM detections GROUP BY stream, algo, frame,"
        " label) d ON d.stream = r.stream AND d.algo = r.algo AND d.frame = r.frame"
        " WHERE r.pts IS NOT NULL GROUP BY r.stream, r.algo, d.label, " +
        bucket + ";\n";
  }
  return sql;
}

}  // namespace

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
  return {v1, v2, v3, v4(dialect)};
}

}  // namespace sf::schema
