// The PostgreSQL store: the SQLite store's rows and upserts over libpq. A batch's statements are prepared
// once per connection and sent in pipeline mode, so a write() of a few hundred results costs two round
// trips to the server instead of thousands.
#include "store/postgres_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>

#include "store/schema.hpp"
#include "store/store_rows.hpp"

namespace sf {
namespace {

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultClearer>;

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Parameters $1, $2, ... of one statement, as text: the server parses them by the columns' types. Doubles
// are written shortest-round-trip, so they come back bit-identical.
class Params {
 public:
  Params& text(std::string_view s) {
    values_.emplace_back(s);
    nulls_.push_back(false);
    return *this;
  }
  Params& integer(int64_t v) { return text(std::to_string(v)); }
  Params& real(double v) {
    char buf[32];
    auto end = std::to_chars(buf, buf + sizeof(buf), v).ptr;
    return text({buf, size_t(end - buf)});
  }
  Params& null() {
    values_.emplace_back();
    nulls_.push_back(true);
    return *this;
  }
  int size() const { return int(values_.size()); }
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    for (size_t i = 0; i < values_.size(); ++i) out.push_back(nulls_[i] ? nullptr : values_[i].c_str());
    return out;
  }

 private:
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
};

struct Prepared {
  const char* name;
  const char* sql;
};
// RETURNING 1 yields a row only when the result is new: a redelivered result adds no detections or roll-ups.
constexpr Prepared kInsertResult{
    "sf_insert_result",
    "INSERT INTO results(stream, algo, frame, pts, ts, count, json) VALUES($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (stream, algo, frame) DO NOTHING RETURNING 1"};
constexpr Prepared kInsertDetection{
    "sf_insert_detection",
    "INSERT INTO detections(stream, algo, frame, label, score, x, y, w, h, track_id)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"};
constexpr Prepared kInsertEvent{
    "sf_insert_event",
    "INSERT INTO events(stream, algo, frame, pts, ts, type, name, track_id, label, direction, dwell)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"};
// `samples` may be more than 1: a batch's increments to one bucket are summed before they are sent.
constexpr Prepared kUpsertRollup{
    "sf_upsert_rollup",
    "INSERT INTO rollups(stream, algo, label, clock, level, bucket, samples, sum, min, max)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (stream, algo, label, clock, level, bucket)"
    " DO UPDATE SET samples = rollups.samples + excluded.samples, sum = rollups.sum + excluded.sum,"
    " min = LEAST(rollups.min, excluded.min), max = GREATEST(rollups.max, excluded.max)"};
constexpr Prepared kUpsertLineRollup{
    "sf_upsert_line_rollup",
    "INSERT INTO line_rollups(stream, algo, line, clock, level, bucket, samples, crossings_in, crossings_out)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (stream, algo, line, clock, level, bucket)"
    " DO UPDATE SET"
    " samples = line_rollups.samples + excluded.samples,"
    " crossings_in = line_rollups.crossings_in + excluded.crossings_in,"
    " crossings_out = line_rollups.crossings_out + excluded.crossings_out"};
constexpr Prepared kUpsertZoneRollup{
    "sf_upsert_zone_rollup",
    "INSERT INTO zone_rollups(stream, algo, zone, clock, level, bucket, samples, sum, min, max)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (stream, algo, zone, clock, level, bucket)"
    " DO UPDATE SET samples = zone_rollups.samples + excluded.samples, sum = zone_rollups.sum + excluded.sum,"
    " min = LEAST(zone_rollups.min, excluded.min), max = GREATEST(zone_rollups.max, excluded.max)"};
constexpr Prepared kUpsertStream{
    "sf_upsert_stream",
    "INSERT INTO streams(name, first_ts, last_ts, clock) VALUES($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE"
    " SET first_ts = LEAST(streams.first_ts, excluded.first_ts),"
    " last_ts = GREATEST(streams.last_ts, excluded.last_ts), clock = coalesce(excluded.clock, "
    "streams.clock)"};
constexpr Prepared kUpsertFrame{
    "sf_upsert_frame",
    "INSERT INTO frames(stream, seq, pts, ts, width, height, archive_path, archive_bytes)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (stream, seq) DO UPDATE SET"
    " archive_path = coalesce(excluded.archive_path, frames.archive_path),"
    " archive_bytes = coalesce(excluded.archive_bytes, frames.archive_bytes)"};
constexpr Prepared kStatements[] = {kInsertResult,     kInsertDetection,  kInsertEvent,  kUpsertRollup,
                                    kUpsertLineRollup, kUpsertZoneRollup, kUpsertStream, kUpsertFrame};

[[noreturn]] void fail(const std::string& where, std::string_view what, const char* message) {
  throw StoreError("PostgreSQL " + where + ": " + std::string(what.substr(0, 120)) + ": " + trimmed(message));
}

PgResult checked(PGconn* conn, PGresult* raw, const std::string& where, std::string_view what) {
  PgResult result(raw);
  auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    fail(where, what, result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn));
  return result;
}

// One statement, with parameters.
PgResult run(PGconn* conn, const std::string& where, const std::string& sql, const Params& params = {}) {
  auto values = params.pointers();
  return checked(conn,
                 PQexecParams(conn, sql.c_str(), params.size(), nullptr, values.data(), nullptr, nullptr, 0),
                 where, sql);
}

// Several statements without parameters (a migration).
void run_script(PGconn* conn, const std::string& where, const std::string& sql) {
  checked(conn, PQexec(conn, sql.c_str()), where, sql);
}

// Statements queued in pipeline mode and read back at the sync point. After a failed statement the server
// skips the rest up to the sync; sync() then throws the first error, with the connection idle again.
class Pipeline {
 public:
  Pipeline(PGconn* conn, const std::string& where) : conn_(conn), where_(where) {
    if (!PQenterPipelineMode(conn_)) fail(where_, "pipeline mode", PQerrorMessage(conn_));
  }
  ~Pipeline() {
    if (!labels_.empty() && PQpipelineSync(conn_)) {
      std::string ignored;
      read_to_sync(&ignored);
    }
    PQexitPipelineMode(conn_);
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void send(const Prepared& statement, const Params& params) {
    auto values = params.pointers();
    if (!PQsendQueryPrepared(conn_, statement.name, params.size(), values.data(), nullptr, nullptr, 0))
      fail(where_, statement.name, PQerrorMessage(conn_));
    labels_.push_back(statement.name);
  }
  void send(const char* sql) {
    if (!PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 0))
      fail(where_, sql, PQerrorMessage(conn_));
    labels_.push_back(sql);
  }
  // One result per statement sent, in order.
  std::vector<PgResult> sync() {
    if (!PQpipelineSync(conn_)) fail(where_, "pipeline sync", PQerrorMessage(conn_));
    std::string error;
    auto results = read_to_sync(&error);
    size_t sent = labels_.size();
    labels_.clear();
    if (!error.empty()) throw StoreError("PostgreSQL " + where_ + ": " + error);
    if (results.size() != sent) fail(where_, "pipeline", PQerrorMessage(conn_));
    return results;
  }

 private:
  std::vector<PgResult> read_to_sync(std::string* error) {
    std::vector<PgResult> results;
    // A NULL ends each statement's results; two in a row mean nothing more is coming (connection lost).
    for (int nulls = 0; nulls < 2;) {
      PgResult result(PQgetResult(conn_));
      if (!result) {
        ++nulls;
        continue;
      }
      nulls = 0;
      auto status = PQresultStatus(result.get());
      if (status == PGRES_PIPELINE_SYNC) return results;
      if (status == PGRES_FATAL_ERROR && error->empty()) {
        auto label = results.size() < labels_.size() ? labels_[results.size()] : "pipeline";
        *error = std::string(label) + ": " + trimmed(PQresultErrorMessage(result.get()));
      }
      results.push_back(std::move(result));
    }
    if (error->empty()) *error = "connection lost: " + trimmed(PQerrorMessage(conn_));
    return results;
  }

  PGconn* conn_;
  const std::string& where_;
  std::vector<const char*> labels_;  // of the statements sent since the last sync
};

// Rolls back whatever transaction a failed call left open, so that the connection serves the next call.
class RollbackOnExit {
 public:
  explicit RollbackOnExit(PGconn* conn) : conn_(conn) {}
  ~RollbackOnExit() {
    auto status = PQtransactionStatus(conn_);
    if (status == PQTRANS_INTRANS || status == PQTRANS_INERROR) PQclear(PQexec(conn_, "ROLLBACK"));
  }
  RollbackOnExit(const RollbackOnExit&) = delete;
  RollbackOnExit& operator=(const RollbackOnExit&) = delete;

 private:
  PGconn* conn_;
};

int64_t integer_value(const PGresult* r, int row, int col) {
  int64_t v = 0;
  const char* text = PQgetvalue(r, row, col);
  std::from_chars(text, text + PQgetlength(r, row, col), v);
  return v;
}

double real_value(const PGresult* r, int row, int col) {
  return std::strtod(PQgetvalue(r, row, col), nullptr);  // also reads NaN and Infinity
}

// Type OIDs (pg_type) of the values query() returns as JSON numbers and booleans.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700;

nlohmann::json json_value(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return nullptr;
  std::string_view text(PQgetvalue(r, row, col), size_t(PQgetlength(r, row, col)));
  switch (PQftype(r, col)) {
    case kInt2:
    case kInt4:
    case kInt8:
      return integer_value(r, row, col);
    case kFloat4:
    case kFloat8:
      return real_value(r, row, col);
    case kNumeric: {
      // sum() and the like of integer columns are numeric here but integers in SQLite: keep them integers.
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && end == text.data() + text.size()) return v;
      return real_value(r, row, col);
    }
    case kBool:
      return text == "t";
    default:
      return std::string(text);
  }
}

}  // namespace

std::string redact_postgres_url(const std::string& url) {
  std::string out = url;
  size_t host = 0;
  if (auto scheme = out.find("://"); scheme != std::string::npos) {
    size_t begin = scheme + 3;
    // As libpq reads it: user info is what precedes an '@' that comes before the first '/'.
    size_t end = out.find_first_of("@/", begin);
    if (end != std::string::npos && out[end] == '@') {
      size_t colon = out.find(':', begin);
      if (colon < end) out.replace(colon + 1, end - colon - 1, "***");
      host = out.find('@', begin);
    }
  }
  for (size_t at = out.find('?', host); at != std::string::npos; at = out.find('&', at + 1)) {
    if (out.compare(at + 1, 9, "password=") != 0) continue;
    size_t value = at + 10, end = out.find('&', value);
    out.replace(value, end == std::string::npos ? std::string::npos : end - value, "***");
  }
  return out;
}

void PostgresStore::Closer::operator()(pg_conn* conn) const { PQfinish(conn); }

PostgresStore::PostgresStore(const std::string& url)
    : conn_(PQconnectdb(url.c_str())), shown_url_(redact_postgres_url(url)) {
  if (!conn_) throw StoreError("cannot connect to PostgreSQL " + shown_url_ + ": out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw StoreError("cannot connect to PostgreSQL " + shown_url_ + ": " +
                     trimmed(PQerrorMessage(conn_.get())));
  setup_session();
  migrate();
}

void PostgresStore::setup_session() {
  // Rows are UTF-8 whatever the database's default; notices ("already exists, skipping") are noise.
  run_script(conn_.get(), shown_url_, "SET client_encoding TO 'UTF8'; SET client_min_messages TO warning");
}

void PostgresStore::connected() {
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK)
      throw StoreError("PostgreSQL " + shown_url_ + ": connection lost and cannot be re-established: " +
                       trimmed(PQerrorMessage(conn_.get())));
    prepared_ = false;  // a new session has none of the old one's prepared statements
    setup_session();
  }
  if (prepared_) return;
  for (const auto& s : kStatements)
    checked(conn_.get(), PQprepare(conn_.get(), s.name, s.sql, 0, nullptr), shown_url_, s.sql);
  prepared_ = true;
}

void PostgresStore::migrate() {
  auto steps = schema::migrations(schema::Dialect::Postgres);
  auto* conn = conn_.get();
  // One migration per transaction. Workers that start together on a new database take turns on an advisory
  // lock, and each re-reads the version under it, so a migration is applied once.
  for (;;) {
    RollbackOnExit rollback(conn);
    run(conn, shown_url_, "BEGIN");
    run(conn, shown_url_, "SELECT pg_advisory_xact_lock(5348475446)");  // any constant: "sightflow schema"
    run(conn, shown_url_, "CREATE TABLE IF NOT EXISTS sightflow_schema(version INTEGER NOT NULL)");
    auto r = run(conn, shown_url_, "SELECT coalesce(max(version), 0) FROM sightflow_schema");
    auto version = size_t(integer_value(r.get(), 0, 0));
    if (version > steps.size())
      throw StoreError("PostgreSQL database " + shown_url_ + " has schema version " +
                       std::to_string(version) + ", newer than this sightflow knows (" +
                       std::to_string(steps.size()) + ")");
    if (version == steps.size()) {
      run(conn, shown_url_, "COMMIT");
      return;
    }
    run_script(conn, shown_url_, steps[version]);
    run(conn, shown_url_, "DELETE FROM sightflow_schema");
    run(conn, shown_url_, "INSERT INTO sightflow_schema(version) VALUES($1)",
        Params().integer(int64_t(version) + 1));
    run(conn, shown_url_, "COMMIT");
  }
}

size_t PostgresStore::write(const std::vector<Result>& results, const std::vector<FrameRecord>& frames) {
  if (results.empty() && frames.empty()) return 0;
  connected();
  auto* conn = conn_.get();
  RollbackOnExit rollback(conn);
  // Row locks are taken in one global order (results; roll-ups of counts, lines and zones; streams; frames;
  // each sorted by key), so two workers writing overlapping batches wait for each other but never deadlock.
  std::vector<size_t> order(results.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(results[a].stream, results[a].algo, results[a].frame) <
           std::tie(results[b].stream, results[b].algo, results[b].frame);
  });
  std::vector<const Result*> added;
  {
    Pipeline pipeline(conn, shown_url_);
    pipeline.send("BEGIN");
    for (size_t i : order) {
      const auto& r = results[i];
      pipeline.send(kInsertResult, Params()
                                       .text(r.stream)
                                       .text(r.algo)
                                       .integer(r.frame)
                                       .real(r.pts)
                                       .real(frame_time(r))
                                       .integer(int64_t(r.detections.size()))
                                       .text(result_json(r)));
    }
    auto inserted = pipeline.sync();
    // Stored before otherwise: at-least-once delivery, exactly-once rows.
    for (size_t k = 0; k < order.size(); ++k)
      if (PQntuples(inserted[k + 1].get()) > 0) added.push_back(&results[order[k]]);
  }

  // The batch's roll-up increments summed per bucket (a row may be upserted only once per statement, and
  // fewer statements are faster), keyed (stream, algo, label, clock, level, bucket) like the table.
  struct Sum {
    int64_t samples = 0, sum = 0;
    int64_t min = std::numeric_limits<int64_t>::max(), max = std::numeric_limits<int64_t>::min();
  };
  using BucketKey = std::tuple<std::string, std::string, std::string, std::string, std::string, double>;
  std::map<BucketKey, Sum> rollups;
  std::map<BucketKey, Sum> zone_rollups;  // the same sums over zone occupancy, keyed by zone
  struct Crossings {
    int64_t samples = 0, in = 0, out = 0;
  };
  std::map<BucketKey, Crossings> line_rollups;               // keyed by line
  std::map<std::string, std::pair<double, double>> streams;  // first and last ts
  auto add = [](Sum& sum, int64_t value) {
    ++sum.samples;
    sum.sum += value;
    sum.min = std::min(sum.min, value);
    sum.max = std::max(sum.max, value);
  };
  for (const Result* r : added) {
    double ts = frame_time(*r);
    const auto lines = line_rollup_samples(*r);
    const auto zones = zone_rollup_samples(*r);
    const auto counts = rollup_samples(*r);
    for (const auto& [clock, t] : clock_times(*r)) {
      for (const auto& level : kRollupLevels) {
        double bucket = bucket_start(t, level.seconds);
        for (const auto& s : counts)
          add(rollups[{r->stream, r->algo, s.label, clock, level.name, bucket}], s.value);
        for (const auto& z : zones)
          add(zone_rollups[{r->stream, r->algo, z.zone, clock, level.name, bucket}], z.count);
        for (const auto& l : lines) {
          auto& c = line_rollups[{r->stream, r->algo, l.line, clock, level.name, bucket}];
          ++c.samples;
          c.in += l.in;
          c.out += l.out;
        }
      }
    }
    auto [span, fresh] = streams.try_emplace(r->stream, ts, ts);
    span->second = {std::min(span->second.first, ts), std::max(span->second.second, ts)};
  }
  std::vector<const FrameRecord*> frame_order;
  for (const auto& f : frames) frame_order.push_back(&f);
  std::stable_sort(frame_order.begin(), frame_order.end(), [](const FrameRecord* a, const FrameRecord* b) {
    return std::tie(a->stream, a->seq) < std::tie(b->stream, b->seq);
  });

  Pipeline pipeline(conn, shown_url_);
  for (const Result* r : added) {
    for (const auto& d : r->detections) {
      Params p;
      p.text(r->stream)
          .text(r->algo)
          .integer(r->frame)
          .text(d.label)
          .real(double(d.score))
          .real(double(d.box.x))
          .real(double(d.box.y))
          .real(double(d.box.width))
          .real(double(d.box.height));
      d.track_id ? p.integer(*d.track_id) : p.null();
      pipeline.send(kInsertDetection, p);
    }
    for (const auto& e : r->events) {
      Params p;
      p.text(r->stream)
          .text(r->algo)
          .integer(r->frame)
          .real(r->pts)
          .real(frame_time(*r))
          .text(e.type)
          .text(e.name);
      e.track_id ? p.integer(*e.track_id) : p.null();
      p.text(e.label).text(e.direction);
      e.dwell ? p.real(*e.dwell) : p.null();
      pipeline.send(kInsertEvent, p);
    }
  }
  for (const auto& [key, sum] : rollups) {
    const auto& [stream, algo, label, clock, level, bucket] = key;
    pipeline.send(kUpsertRollup, Params()
                                     .text(stream)
                                     .text(algo)
                                     .text(label)
                                     .text(clock)
                                     .text(level)
                                     .real(bucket)
                                     .integer(sum.samples)
                                     .integer(sum.sum)
                                     .integer(sum.min)
                                     .integer(sum.max));
  }
  for (const auto& [key, c] : line_rollups) {
    const auto& [stream, algo, line, clock, level, bucket] = key;
    pipeline.send(kUpsertLineRollup, Params()
                                         .text(stream)
                                         .text(algo)
                                         .text(line)
                                         .text(clock)
                                         .text(level)
                                         .real(bucket)
                                         .integer(c.samples)
                                         .integer(c.in)
                                         .integer(c.out));
  }
  for (const auto& [key, sum] : zone_rollups) {
    const auto& [stream, algo, zone, clock, level, bucket] = key;
    pipeline.send(kUpsertZoneRollup, Params()
                                         .text(stream)
                                         .text(algo)
                                         .text(zone)
                                         .text(clock)
                                         .text(level)
                                         .real(bucket)
                                         .integer(sum.samples)
                                         .integer(sum.sum)
                                         .integer(sum.min)
                                         .integer(sum.max));
  }
  for (const auto& [stream, span] : streams) {
    Params p;
    p.text(stream).real(span.first).real(span.second);
    stream_clock().empty() ? p.null() : p.text(stream_clock());
    pipeline.send(kUpsertStream, p);
  }
  for (const FrameRecord* f : frame_order) {
    Params p;
    p.text(f->stream).integer(f->seq).real(f->pts).real(f->ts).integer(f->width).integer(f->height);
    if (f->archive_path.empty()) {
      p.null().null();
    } else {
      p.text(f->archive_path).integer(f->archive_bytes);
    }
    pipeline.send(kUpsertFrame, p);
  }
  pipeline.send("COMMIT");
  pipeline.sync();
  return added.size();
}

std::vector<FrameRecord> PostgresStore::archived_frames(const std::string& stream) {
  connected();
  auto r = run(conn_.get(), shown_url_,
               "SELECT stream, seq, pts, ts, width, height, archive_path, archive_bytes FROM frames"
               " WHERE archive_path IS NOT NULL AND ($1 = '' OR stream = $1) ORDER BY ts, stream, seq",
               Params().text(stream));
  std::vector<FrameRecord> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    auto* p = r.get();
    out.push_back({PQgetvalue(p, i, 0), integer_value(p, i, 1), real_value(p, i, 2), real_value(p, i, 3),
                   int(integer_value(p, i, 4)), int(integer_value(p, i, 5)), PQgetvalue(p, i, 6),
                   integer_value(p, i, 7)});
  }
  return out;
}

void PostgresStore::clear_archive(const std::string& stream, int64_t seq) {
  connected();
  run(conn_.get(), shown_url_,
      "UPDATE frames SET archive_path = NULL, archive_bytes = NULL WHERE stream = $1 AND seq = $2",
      Params().text(stream).integer(seq));
}

static QueryRows rows_of(const PGresult* r) {
  QueryRows out;
  for (int c = 0; c < PQnfields(r); ++c) out.columns.push_back(PQfname(r, c));
  for (int i = 0; i < PQntuples(r); ++i) {
    auto& row = out.rows.emplace_back();
    for (int c = 0; c < PQnfields(r); ++c) row.push_back(json_value(r, i, c));
  }
  return out;
}

QueryRows PostgresStore::query(const std::string& sql) {
  connected();
  return rows_of(run(conn_.get(), shown_url_, sql).get());  // the extended protocol runs one statement only
}

QueryRows PostgresStore::select(const std::string& sql, const std::vector<nlohmann::json>& params) {
  connected();
  Params p;
  for (const auto& value : params) {
    if (value.is_number_integer())
      p.integer(value.get<int64_t>());
    else if (value.is_number())
      p.real(value.get<double>());
    else if (value.is_string())
      p.text(value.get_ref<const std::string&>());
    else
      p.null();
  }
  return rows_of(run(conn_.get(), shown_url_, sql, p).get());
}

// Asks the server to stop the statement running on `conn` (an error result follows).
static void cancel_statement(PGconn* conn) {
  std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel(PQgetCancel(conn), &PQfreeCancel);
  char error[256];
  if (cancel) PQcancel(cancel.get(), error, sizeof error);
}

QueryRows postgres_read_only_query(const std::string& url, const std::string& sql,
                                   const QueryLimits& limits) {
  try {
    validate(limits);
  } catch (const std::invalid_argument& e) {
    throw StoreError(e.what());
  }
  // Its own connection, without the store's migrations: reading must not create or upgrade a schema.
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  auto shown = redact_postgres_url(url);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    throw StoreError("cannot connect to PostgreSQL " + shown + ": " +
                     (conn ? trimmed(PQerrorMessage(conn.get())) : std::string("out of memory")));
  // The server refuses every write inside a read-only transaction (SQLSTATE 25006); it is never committed.
  run(conn.get(), shown, "BEGIN READ ONLY");
  // The server ends a statement that runs too long (SQLSTATE 57014); rows come one at a time, so that a
  // statement returning too many is cancelled before they fill memory.
  if (limits.timeout_s > 0)
    run(conn.get(), shown,
        "SET LOCAL statement_timeout = " +
            std::to_string(std::max(1LL, std::llround(limits.timeout_s * 1000))));
  if (!PQsendQueryParams(conn.get(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) ||
      !PQsetSingleRowMode(conn.get()))
    fail(shown, sql, PQerrorMessage(conn.get()));
  QueryRows out;
  bool too_many = false;
  std::string error, sqlstate;
  for (;;) {
    PgResult r(PQgetResult(conn.get()));
    if (!r) break;
    auto status = PQresultStatus(r.get());
    if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
      if (out.columns.empty())
        for (int c = 0; c < PQnfields(r.get()); ++c) out.columns.push_back(PQfname(r.get(), c));
      for (int i = 0; i < PQntuples(r.get()) && !too_many; ++i) {
        if (limits.max_rows > 0 && int64_t(out.rows.size()) >= limits.max_rows) {
          too_many = true;
          cancel_statement(conn.get());
          break;
        }
        auto& row = out.rows.emplace_back();
        for (int c = 0; c < PQnfields(r.get()); ++c) row.push_back(json_value(r.get(), i, c));
      }
    } else if (status != PGRES_COMMAND_OK && error.empty()) {
      error = trimmed(PQresultErrorMessage(r.get()));
      const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
      sqlstate = state ? state : "";
    }
  }
  if (too_many) throw StoreError(query_rows_message(limits));
  if (error.empty()) return out;
  if (sqlstate == "57014") throw StoreError(query_timeout_message(limits));
  if (error.find("read-only transaction") != std::string::npos)
    throw StoreError("query refused: sightflow query is read-only (PostgreSQL " + shown + ": " + error + ")");
  fail(shown, sql, error.c_str());
}

void PostgresStore::apply_retention(const RetentionPolicy& policy, double now) {
  connected();
  auto* conn = conn_.get();
  RollbackOnExit rollback(conn);
  run(conn, shown_url_, "BEGIN");
  if (policy.raw_seconds > 0) {
    auto cutoff = Params().real(now - policy.raw_seconds);
    run(conn, shown_url_,
        "DELETE FROM detections WHERE (stream, algo, frame) IN"
        " (SELECT stream, algo, frame FROM results WHERE ts < $1)",
        cutoff);
    run(conn, shown_url_, "DELETE FROM results WHERE ts < $1", cutoff);
    run(conn, shown_url_, "DELETE FROM events WHERE ts < $1", cutoff);
    run(conn, shown_url_, "DELETE FROM frames WHERE ts < $1 AND archive_path IS NULL", cutoff);
  }
  for (size_t i = 0; i < std::size(kRollupLevels); ++i) {
    if (policy.rollup_seconds[i] <= 0) continue;
    for (const char* table : {"rollups", "line_rollups", "zone_rollups"}) {
      run(conn, shown_url_,
          std::string("DELETE FROM ") + table + " WHERE clock = 'wall' AND level = $1 AND bucket < $2",
          Params().text(kRollupLevels[i].name).real(now - policy.rollup_seconds[i]));
      run(conn, shown_url_, media_retention_sql(table, "$1", "$2"),
          Params().text(kRollupLevels[i].name).real(policy.rollup_seconds[i]));
    }
  }
  run(conn, shown_url_, "COMMIT");
}

}  // namespace sf
