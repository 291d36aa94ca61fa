#pragma once
// The results store: every result, its detections, the frames it was computed on (and their archived
// JPEG files), and count roll-ups over time, in SQL. SQLite (one file, WAL) is the embedded default;
// PostgreSQL serves several machines. Writes are idempotent by (stream, algo, frame): storing a result
// twice leaves one row, so at-least-once delivery gives exactly-once results.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sightflow/result.hpp"
#include "sightflow/sink.hpp"
#include "sightflow/store_reads.hpp"

namespace sf {

// A store that cannot be opened, migrated or written; what() names the database and the statement.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Roll-up levels: counts aggregated into buckets of 1 s, 1 min and 1 h (column `level` holds the name).
struct RollupLevel {
  const char* name;
  double seconds;
};
inline constexpr RollupLevel kRollupLevels[] = {{"1s", 1.0}, {"1m", 60.0}, {"1h", 3600.0}};

struct RetentionPolicy {
  double raw_seconds = 7 * 86400.0;                                   // results and detections
  double rollup_seconds[3] = {86400.0, 30 * 86400.0, 400 * 86400.0};  // per kRollupLevels entry; 0: forever
};

// A frame the results refer to; archive_path is set (relative to the archive folder) when its JPEG is kept.
struct FrameRecord {
  std::string stream;
  int64_t seq = 0;
  double pts = 0, ts = 0;
  int width = 0, height = 0;
  std::string archive_path;  // empty: not archived
  int64_t archive_bytes = 0;
};

// One roll-up increment: the count of `label` in one result ("*" is the result's total count). Table
// `rollups` aggregates, per label, only the results where the label appeared; view `counts` divides by
// the "*" row's samples, so a label absent from some results of a bucket gets its zeros (avg, min) back
// without any per-process state (several workers may write the same bucket).
struct RollupSample {
  std::string label;
  int64_t value = 0;
};

// One line's crossings in one result, per direction (0, 0 when none: the bucket still has a sample).
struct LineRollupSample {
  std::string line;
  int64_t in = 0, out = 0;
};

// One zone's occupancy in one result.
struct ZoneRollupSample {
  std::string zone;
  int64_t count = 0;
};

// Rows of a query: column names, then values typed as JSON (numbers, strings, null).
struct QueryRows {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores results with their detections, updates the roll-ups, and records the frames (by stream, seq;
  // an archive path already stored is kept unless a new one is given), all in one transaction: after it
  // returns they are durable. Results already stored (same stream, algo, frame) are skipped, roll-ups
  // included. Returns how many results were new.
  virtual size_t write(const std::vector<Result>& results, const std::vector<FrameRecord>& frames = {}) = 0;
  // Archived frames, oldest first (by ts), optionally of one stream.
  virtual std::vector<FrameRecord> archived_frames(const std::string& stream = "") = 0;
  // Forgets the archive file of a frame (the row stays, archive_path becomes NULL).
  virtual void clear_archive(const std::string& stream, int64_t seq) = 0;
  // Deletes raw results/detections and roll-up buckets older than the policy allows, as of `now` (unix s).
  virtual void apply_retention(const RetentionPolicy& policy, double now) = 0;

  // Runs one reading statement on the store's own connection (tests, tools).
  virtual QueryRows query(const std::string& sql) = 0;

  virtual std::string describe() const = 0;  // "sqlite:PATH" or the PostgreSQL URL without password

  // The clock ("wall" or "media") a stream's series use when a reader does not name one, recorded in
  // `streams.clock` with every stream this store writes from now on; "" (the default) records nothing and
  // keeps what is there. The store sink sets "media" for an offline run (a file read faster or slower than
  // its own pace) and "wall" in real time. Call before writing.
  void set_stream_clock(std::string clock);
  const std::string& stream_clock() const { return stream_clock_; }
  // "wall" or "media" as asked; "auto" or "": the stream's recorded clock, else "wall". Throws
  // std::invalid_argument for another name.
  std::string resolve_clock(const std::string& stream, const std::string& clock);

  // Typed reads (store_reads.hpp), the same SQL on every backend (written once, over select()).
  // Algorithms of `stream` that have roll-ups, by name.
  std::vector<std::string> algorithms(const std::string& stream);
  std::vector<CountBucket> count_series(const SeriesQuery& query);
  std::vector<LineBucket> line_series(const SeriesQuery& query);  // by line, then time
  std::vector<ZoneBucket> zone_series(const SeriesQuery& query);  // by zone, then time
  std::vector<FrameRecord> frames(const FrameQuery& query);       // archived only, newest first
  // The archive path of frame `seq` of `stream` (relative to the archive folder); nullopt: not archived.
  std::optional<std::string> archive_path(const std::string& stream, int64_t seq);
  std::vector<StoredEvent> events(const EventQuery& query);

 protected:
  // One reading statement with parameters $1, $2, ... (strings, integers, reals), rows typed as in query().
  virtual QueryRows select(const std::string& sql, const std::vector<nlohmann::json>& params) = 0;

 private:
  std::string stream_clock_;
};

// Opens (creating and migrating as needed) a store: a file path (SQLite; its folder is created too) or a
// postgresql://... URL.
std::unique_ptr<Store> open_store(const std::string& where);

// The roll-up samples of one result: "*" with the total count, and one per label present.
std::vector<RollupSample> rollup_samples(const Result& result);
// The line crossings of one result (from its "line" events), one per line it reports in "lines".
std::vector<LineRollupSample> line_rollup_samples(const Result& result);
// The occupancy of each zone the result reports in "zones".
std::vector<ZoneRollupSample> zone_rollup_samples(const Result& result);
// The start of the bucket of `level_seconds` that contains unix time `ts`.
double bucket_start(double ts, double level_seconds);

inline constexpr int64_t kDefaultArchiveMaxBytes = 1'000'000'000;  // 1 GB (`max_mb: 1000`)

// Which analysed frames are kept as JPEG files (folder/<stream>/<YYYY-MM-DD>/<HHMMSS>-<seq>.jpg, UTC).
struct ArchivePolicy {
  bool keep_detections = true;  // keep every frame whose result has detections
  int keep_every = 0;           // otherwise keep every Nth analysed frame of a stream (0: none)
  bool annotated = false;       // also write an annotated copy (boxes, labels) beside the raw one
  double max_age_s = 0;         // 0: no age limit
  // Total size of the archive (all streams); 0: no limit. Bounded by default: a camera archived for days
  // would otherwise fill the disk (a looping test video wrote 421 MB in 13 minutes).
  int64_t max_bytes = kDefaultArchiveMaxBytes;
  int quality = 90;
};

struct StoreSinkOptions {
  size_t batch_size = 256;       // results per transaction at most
  double batch_delay_s = 0.2;    // a result waits at most this long before its transaction commits
  size_t queue_capacity = 4096;  // results waiting for the writer; a full queue blocks the sink thread
  RetentionPolicy retention;     // applied at start and every retention_interval_s
  double retention_interval_s = 60;
  std::string archive_dir;  // empty: no frame archive
  ArchivePolicy archive;
  std::string stream_clock;  // Store::set_stream_clock: "media" for an offline run, "wall" in real time
  // Called on the writer thread after each commit: results new in it, and in total so far.
  std::function<void(size_t committed, size_t total, double seconds)> on_commit;
};

// A sink that stores results (and archives frames) on its own writer thread, in batched transactions,
// so the store never sits on the inference path. close() commits what is queued; a store error is
// rethrown by the next write() or close().
std::shared_ptr<Sink> make_store_sink(std::shared_ptr<Store> store, StoreSinkOptions options);

}  // namespace sf
