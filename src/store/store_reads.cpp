// The store's typed reads, written once: PostgreSQL's $N parameters (SQLite reads them as ?N), columns
// whose types both backends return alike (integers, reals, text; a flag as 0/1, never a boolean).
#include <limits>
#include <stdexcept>

#include "sightflow/store.hpp"

namespace sf {
namespace {

double level_seconds(const std::string& level) {
  for (const auto& l : kRollupLevels)
    if (level == l.name) return l.seconds;
  throw std::invalid_argument("roll-up level must be 1s, 1m or 1h, got '" + level + "'");
}

// The series' bounds as parameters: buckets from the one holding `from` up to `to`, on `clock`.
std::vector<nlohmann::json> series_params(const SeriesQuery& q, const std::string& clock) {
  return {q.stream, q.algo, q.level, bucket_start(q.from, level_seconds(q.level)), q.to, clock};
}

constexpr double kEarliest = -std::numeric_limits<double>::max();
constexpr double kLatest = std::numeric_limits<double>::max();

std::string text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

}  // namespace

void Store::set_stream_clock(std::string clock) {
  if (!clock.empty() && clock != "wall" && clock != "media")
    throw std::invalid_argument("a stream's clock must be wall or media, got '" + clock + "'");
  stream_clock_ = std::move(clock);
}

std::string Store::resolve_clock(const std::string& stream, const std::string& clock) {
  if (clock == "wall" || clock == "media") return clock;
  if (!clock.empty() && clock != "auto")
    throw std::invalid_argument("clock must be wall, media or auto, got '" + clock + "'");
  auto rows = select("SELECT clock FROM streams WHERE name = $1", {stream}).rows;
  if (!rows.empty() && rows[0][0].is_string()) return rows[0][0].get<std::string>();
  return "wall";
}

std::vector<std::string> Store::algorithms(const std::string& stream) {
  std::vector<std::string> out;
  for (const auto& row :
       select("SELECT DISTINCT algo FROM rollups WHERE stream = $1 ORDER BY algo", {stream}).rows)
    out.push_back(row[0].get<std::string>());
  return out;
}

std::vector<CountBucket> Store::count_series(const SeriesQuery& q) {
  auto params = series_params(q, resolve_clock(q.stream, q.clock));
  params.push_back(q.name.empty() ? std::string("*") : q.name);
  // Every bucket with results has a point, as the in-memory history gives: a label absent from all of a
  // bucket's results has no roll-up row there, and counts 0 (the bucket's '*' row says how many results).
  auto rows = select(
      "SELECT t.bucket, COALESCE(c.avg, 0), COALESCE(c.min, 0), COALESCE(c.max, 0), t.samples FROM rollups t"
      " LEFT JOIN counts c ON c.stream = t.stream AND c.algo = t.algo AND c.clock = t.clock"
      " AND c.level = t.level AND c.bucket = t.bucket AND c.label = $7"
      " WHERE t.stream = $1 AND t.algo = $2 AND t.level = $3 AND t.bucket >= $4 AND t.bucket <= $5"
      " AND t.clock = $6 AND t.label = '*' ORDER BY t.bucket",
      params);
  std::vector<CountBucket> out;
  for (const auto& r : rows.rows)
    out.push_back({r[0].get<double>(), r[1].get<double>(), r[2].get<int64_t>(), r[3].get<int64_t>(),
                   r[4].get<int64_t>()});
  return out;
}

std::vector<LineBucket> Store::line_series(const SeriesQuery& q) {
  auto params = series_params(q, resolve_clock(q.stream, q.clock));
  params.push_back(q.name);
  auto rows = select(
      "SELECT line, bucket, crossings_in, crossings_out, samples FROM line_rollups WHERE stream = $1 AND"
      " algo = $2 AND level = $3 AND bucket >= $4 AND bucket <= $5 AND clock = $6 AND ($7 = '' OR line = $7)"
      " ORDER BY line, bucket",
      params);
  std::vector<LineBucket> out;
  for (const auto& r : rows.rows)
    out.push_back({r[0].get<std::string>(), r[1].get<double>(), r[2].get<int64_t>(), r[3].get<int64_t>(),
                   r[4].get<int64_t>()});
  return out;
}

std::vector<ZoneBucket> Store::zone_series(const SeriesQuery& q) {
  auto params = series_params(q, resolve_clock(q.stream, q.clock));
  params.push_back(q.name);
  auto rows = select(
      "SELECT zone, bucket, sum, min, max, samples FROM zone_rollups WHERE stream = $1 AND algo = $2 AND"
      " level = $3 AND bucket >= $4 AND bucket <= $5 AND clock = $6 AND ($7 = '' OR zone = $7)"
      " ORDER BY zone, bucket",
      params);
  std::vector<ZoneBucket> out;
  for (const auto& r : rows.rows) {
    auto samples = r[5].get<int64_t>();
    out.push_back({r[0].get<std::string>(), r[1].get<double>(),
                   samples ? double(r[2].get<int64_t>()) / double(samples) : 0.0, r[3].get<int64_t>(),
                   r[4].get<int64_t>(), samples});
  }
  return out;
}

std::vector<FrameRecord> Store::frames(const FrameQuery& q) {
  auto rows = select(
      "SELECT stream, seq, pts, ts, width, height, archive_path, archive_bytes FROM frames"
      " WHERE archive_path IS NOT NULL AND ($1 = '' OR stream = $1) AND ts >= $2 AND ts <= $3"
      " ORDER BY ts DESC, stream, seq DESC LIMIT $4",
      {q.stream, q.from.value_or(kEarliest), q.to.value_or(kLatest), q.limit});
  std::vector<FrameRecord> out;
  for (const auto& r : rows.rows)
    out.push_back({r[0].get<std::string>(), r[1].get<int64_t>(), r[2].get<double>(), r[3].get<double>(),
                   int(r[4].get<int64_t>()), int(r[5].get<int64_t>()), r[6].get<std::string>(),
                   r[7].is_null() ? 0 : r[7].get<int64_t>()});
  return out;
}

std::optional<std::string> Store::archive_path(const std::string& stream, int64_t seq) {
  auto rows =
      select("SELECT archive_path FROM frames WHERE stream = $1 AND seq = $2 AND archive_path IS NOT NULL",
             {stream, seq});
  if (rows.rows.empty()) return std::nullopt;
  return rows.rows[0][0].get<std::string>();
}

std::vector<StoredEvent> Store::events(const EventQuery& q) {
  auto rows = select(
      "SELECT e.stream, e.algo, e.frame, e.pts, e.ts, e.type, e.name, e.track_id, e.label, e.direction,"
      " e.dwell, CASE WHEN f.archive_path IS NULL THEN 0 ELSE 1 END"
      " FROM events e LEFT JOIN frames f ON f.stream = e.stream AND f.seq = e.frame"
      " WHERE ($1 = '' OR e.stream = $1) AND ($2 = '' OR e.type = $2) AND e.ts >= $3 AND e.ts <= $4"
      " ORDER BY e.ts DESC, e.frame DESC, e.algo, e.name LIMIT $5",
      {q.stream, q.type, q.from.value_or(kEarliest), q.to.value_or(kLatest), q.limit});
  std::vector<StoredEvent> out;
  for (const auto& r : rows.rows) {
    StoredEvent e;
    e.stream = r[0].get<std::string>();
    e.algo = r[1].get<std::string>();
    e.frame = r[2].get<int64_t>();
    e.pts = r[3].is_null() ? 0 : r[3].get<double>();
    e.ts = r[4].get<double>();
    e.event.type = r[5].get<std::string>();
    e.event.name = r[6].get<std::string>();
    if (!r[7].is_null()) e.event.track_id = r[7].get<int64_t>();
    e.event.label = text(r[8]);
    e.event.direction = text(r[9]);
    if (!r[10].is_null()) e.event.dwell = r[10].get<double>();
    e.archived = r[11].get<int64_t>() != 0;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace sf
