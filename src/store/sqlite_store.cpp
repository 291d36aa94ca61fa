// The embedded store: one SQLite file in WAL mode (readers such as `sightflow query` never block the
// writer), batched transactions, idempotent upserts.
#include "store/sqlite_store.hpp"

#include <cctype>

#include "store/schema.hpp"
#include "store/store_rows.hpp"

namespace sf {
namespace {

// Rolls back an open transaction when a write throws, so the file never keeps half a batch.
class Transaction {
 public:
  explicit Transaction(sqlite::Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (open_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    db_.exec("COMMIT");
    open_ = false;
  }

 private:
  sqlite::Database& db_;
  bool open_ = true;
};

}  // namespace

SqliteStore::SqliteStore(const std::string& path) : db_(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
  db_.exec("PRAGMA journal_mode=WAL");
  // NORMAL in WAL mode: a commit survives the process being killed; only a power cut may lose the last ones.
  db_.exec("PRAGMA synchronous=NORMAL");
  migrate();
}

void SqliteStore::migrate() {
  auto steps = schema::migrations(schema::Dialect::Sqlite);
  // Each step reads the version inside its own write transaction: several processes (workers) opening a
  // new file at once migrate it once, the others find it done.
  for (;;) {
    Transaction t(db_);
    auto version_query = db_.prepare("PRAGMA user_version");
    version_query.step();
    int64_t version = version_query.column_int(0);
    version_query.step();
    if (version > int64_t(steps.size()))
      throw StoreError("SQLite database " + db_.path() + " has schema version " + std::to_string(version) +
                       ", newer than this sightflow knows (" + std::to_string(steps.size()) + ")");
    if (version == int64_t(steps.size())) return;  // the transaction rolls back: nothing was written
    db_.exec(steps[size_t(version)]);
    db_.exec("PRAGMA user_version=" + std::to_string(version + 1));
    t.commit();
  }
}

size_t SqliteStore::write(const std::vector<Result>& results, const std::vector<FrameRecord>& frames) {
  if (results.empty() && frames.empty()) return 0;
  Transaction t(db_);
  auto insert_result = db_.prepare(
      "INSERT INTO results(stream, algo, frame, pts, ts, count, json) VALUES(?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT(stream, algo, frame) DO NOTHING");
  auto insert_detection = db_.prepare(
      "INSERT INTO detections(stream, algo, frame, label, score, x, y, w, h, track_id)"
      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto insert_event = db_.prepare(
      "INSERT INTO events(stream, algo, frame, pts, ts, type, name, track_id, label, direction, dwell)"
      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto upsert_rollup = db_.prepare(
      "INSERT INTO rollups(stream, algo, label, clock, level, bucket, samples, sum, min, max)"
      " VALUES(?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT(stream, algo, label, clock, level, bucket) DO "
      "UPDATE SET"
      " samples = samples + 1, sum = sum + excluded.sum, min = min(min, excluded.min),"
      " max = max(max, excluded.max)");
  auto upsert_line_rollup = db_.prepare(
      "INSERT INTO line_rollups(stream, algo, line, clock, level, bucket, samples, crossings_in, "
      "crossings_out)"
      " VALUES(?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT(stream, algo, line, clock, level, bucket) DO UPDATE SET"
      " samples = samples + 1, crossings_in = crossings_in + excluded.crossings_in,"
      " crossings_out = crossings_out + excluded.crossings_out");
  auto upsert_zone_rollup = db_.prepare(
      "INSERT INTO zone_rollups(stream, algo, zone, clock, level, bucket, samples, sum, min, max)"
      " VALUES(?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT(stream, algo, zone, clock, level, bucket) DO UPDATE "
      "SET"
      " samples = samples + 1, sum = sum + excluded.sum, min = min(min, excluded.min),"
      " max = max(max, excluded.max)");
  auto upsert_stream = db_.prepare(
      "INSERT INTO streams(name, first_ts, last_ts, clock) VALUES(?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
      " first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts),"
      " clock = coalesce(excluded.clock, clock)");
  auto upsert_frame = db_.prepare(
      "INSERT INTO frames(stream, seq, pts, ts, width, height, archive_path, archive_bytes)"
      " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(stream, seq) DO UPDATE SET"
      " archive_path = coalesce(excluded.archive_path, archive_path),"
      " archive_bytes = coalesce(excluded.archive_bytes, archive_bytes)");
  size_t added = 0;
  for (const auto& r : results) {
    double ts = frame_time(r);
    insert_result.bind(1, r.stream).bind(2, r.algo).bind(3, r.frame).bind(4, r.pts).bind(5, ts);
    insert_result.bind(6, int64_t(r.detections.size())).bind(7, result_json(r)).run();
    if (db_.changes() == 0) continue;  // stored before: at-least-once delivery, exactly-once rows
    ++added;
    for (const auto& d : r.detections) {
      insert_detection.bind(1, r.stream).bind(2, r.algo).bind(3, r.frame).bind(4, d.label);
      insert_detection.bind(5, double(d.score)).bind(6, double(d.box.x)).bind(7, double(d.box.y));
      insert_detection.bind(8, double(d.box.width)).bind(9, double(d.box.height));
      if (d.track_id)
        insert_detection.bind(10, *d.track_id);
      else
        insert_detection.bind_null(10);
      insert_detection.run();
    }
    for (const auto& e : r.events) {
      insert_event.bind(1, r.stream).bind(2, r.algo).bind(3, r.frame).bind(4, r.pts).bind(5, ts);
      insert_event.bind(6, e.type).bind(7, e.name);
      if (e.track_id)
        insert_event.bind(8, *e.track_id);
      else
        insert_event.bind_null(8);
      insert_event.bind(9, e.label).bind(10, e.direction);
      if (e.dwell)
        insert_event.bind(11, *e.dwell);
      else
        insert_event.bind_null(11);
      insert_event.run();
    }
    const auto counts = rollup_samples(r);
    const auto lines = line_rollup_samples(r);
    const auto zones = zone_rollup_samples(r);
    for (const auto& [clock, t] : clock_times(r)) {
      for (const auto& level : kRollupLevels) {
        double bucket = bucket_start(t, level.seconds);
        for (const auto& s : counts) {
          upsert_rollup.bind(1, r.stream).bind(2, r.algo).bind(3, s.label).bind(4, clock).bind(5, level.name);
          upsert_rollup.bind(6, bucket).bind(7, s.value).bind(8, s.value).bind(9, s.value).run();
        }
        for (const auto& l : lines) {
          upsert_line_rollup.bind(1, r.stream).bind(2, r.algo).bind(3, l.line).bind(4, clock);
          upsert_line_rollup.bind(5, level.name).bind(6, bucket).bind(7, l.in).bind(8, l.out).run();
        }
        for (const auto& z : zones) {
          upsert_zone_rollup.bind(1, r.stream).bind(2, r.algo).bind(3, z.zone).bind(4, clock);
          upsert_zone_rollup.bind(5, level.name).bind(6, bucket).bind(7, z.count).bind(8, z.count);
          upsert_zone_rollup.bind(9, z.count).run();
        }
      }
    }
    upsert_stream.bind(1, r.stream).bind(2, ts).bind(3, ts);
    if (stream_clock().empty())
      upsert_stream.bind_null(4);
    else
      upsert_stream.bind(4, stream_clock());
    upsert_stream.run();
  }
  for (const auto& f : frames) {
    upsert_frame.bind(1, f.stream).bind(2, f.seq).bind(3, f.pts).bind(4, f.ts).bind(5, f.width);
    upsert_frame.bind(6, f.height);
    if (f.archive_path.empty()) {
      upsert_frame.bind_null(7).bind_null(8);
    } else {
      upsert_frame.bind(7, f.archive_path).bind(8, f.archive_bytes);
    }
    upsert_frame.run();
  }
  t.commit();
  return added;
}

std::vector<FrameRecord> SqliteStore::archived_frames(const std::string& stream) {
  auto q = db_.prepare(
      "SELECT stream, seq, pts, ts, width, height, archive_path, archive_bytes FROM frames"
      " WHERE archive_path IS NOT NULL AND (?1 = '' OR stream = ?1) ORDER BY ts, stream, seq");
  q.bind(1, stream);
  std::vector<FrameRecord> out;
  while (q.step()) {
    out.push_back({q.column_text(0), q.column_int(1), q.column_double(2), q.column_double(3),
                   int(q.column_int(4)), int(q.column_int(5)), q.column_text(6), q.column_int(7)});
  }
  return out;
}

void SqliteStore::clear_archive(const std::string& stream, int64_t seq) {
  db_.prepare("UPDATE frames SET archive_path = NULL, archive_bytes = NULL WHERE stream = ? AND seq = ?")
      .bind(1, stream)
      .bind(2, seq)
      .run();
}

namespace {

QueryRows rows_of(sqlite::Statement& q) {
  QueryRows out;
  for (int i = 0; i < q.column_count(); ++i) out.columns.push_back(q.column_name(i));
  while (q.step()) {
    auto& row = out.rows.emplace_back();
    for (int i = 0; i < q.column_count(); ++i) {
      switch (sqlite3_column_type(q.handle(), i)) {
        case SQLITE_INTEGER:
          row.push_back(q.column_int(i));
          break;
        case SQLITE_FLOAT:
          row.push_back(q.column_double(i));
          break;
        case SQLITE_NULL:
          row.push_back(nullptr);
          break;
        default:
          row.push_back(q.column_text(i));
      }
    }
  }
  return out;
}

// "$1" -> "?1": the typed reads are written once with PostgreSQL's parameters; SQLite's ?NNN is the same.
std::string numbered_parameters(const std::string& sql) {
  std::string out = sql;
  for (size_t i = 0; i + 1 < out.size(); ++i)
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  return out;
}

}  // namespace

QueryRows SqliteStore::query(const std::string& sql) {
  auto q = db_.prepare(sql);
  return rows_of(q);
}

QueryRows SqliteStore::select(const std::string& sql, const std::vector<nlohmann::json>& params) {
  auto q = db_.prepare(numbered_parameters(sql));
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    int index = int(i) + 1;
    if (p.is_number_integer())
      q.bind(index, p.get<int64_t>());
    else if (p.is_number())
      q.bind(index, p.get<double>());
    else if (p.is_string())
      q.bind(index, p.get_ref<const std::string&>());
    else
      q.bind_null(index);
  }
  return rows_of(q);
}

void SqliteStore::apply_retention(const RetentionPolicy& policy, double now) {
  Transaction t(db_);
  if (policy.raw_seconds > 0) {
    double cutoff = now - policy.raw_seconds;
    db_.prepare(
           "DELETE FROM detections WHERE (stream, algo, frame) IN"
           " (SELECT stream, algo, frame FROM results WHERE ts < ?)")
        .bind(1, cutoff)
        .run();
    db_.prepare("DELETE FROM results WHERE ts < ?").bind(1, cutoff).run();
    db_.prepare("DELETE FROM events WHERE ts < ?").bind(1, cutoff).run();
    db_.prepare("DELETE FROM frames WHERE ts < ? AND archive_path IS NULL").bind(1, cutoff).run();
  }
  for (size_t i = 0; i < std::size(kRollupLevels); ++i) {
    if (policy.rollup_seconds[i] <= 0) continue;
    for (const char* table : {"rollups", "line_rollups", "zone_rollups"}) {
      db_.prepare(std::string("DELETE FROM ") + table + " WHERE clock = 'wall' AND level = ? AND bucket < ?")
          .bind(1, kRollupLevels[i].name)
          .bind(2, now - policy.rollup_seconds[i])
          .run();
      db_.prepare(media_retention_sql(table, "?1", "?2"))
          .bind(1, kRollupLevels[i].name)
          .bind(2, policy.rollup_seconds[i])
          .run();
    }
  }
  t.commit();
}

}  // namespace sf
