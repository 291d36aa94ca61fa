#pragma once
#include <memory>

#include "sightflow/store.hpp"
#include "store/query_limits.hpp"

struct pg_conn;  // libpq's PGconn

namespace sf {

// A postgresql:// URL with its password (user info or ?password=) replaced by "***", for messages.
std::string redact_postgres_url(const std::string& url);

// Runs one statement in a read-only transaction on a connection of its own (`sightflow query`); anything
// that writes is refused by the server and reported as "query refused: ...".
// Stopped (StoreError) past limits.timeout_s or limits.max_rows rows.
QueryRows postgres_read_only_query(const std::string& url, const std::string& sql,
                                   const QueryLimits& limits = {});

// One libpq connection, used by one thread at a time (the store sink's writer). Several processes may
// write the same database at once: every write is an idempotent upsert, and each transaction takes its
// row locks in one global order, so concurrent writers neither double-count nor deadlock.
class PostgresStore : public Store {
 public:
  explicit PostgresStore(const std::string& url);

  size_t write(const std::vector<Result>& results, const std::vector<FrameRecord>& frames) override;
  std::vector<FrameRecord> archived_frames(const std::string& stream) override;
  void clear_archive(const std::string& stream, int64_t seq) override;
  void apply_retention(const RetentionPolicy& policy, double now) override;
  QueryRows query(const std::string& sql) override;
  std::string describe() const override { return shown_url_; }

 protected:
  QueryRows select(const std::string& sql, const std::vector<nlohmann::json>& params) override;

 private:
  void connected();  // resets a broken connection once, and prepares the statements of a new one
  void setup_session();
  void migrate();
  struct Closer {
    void operator()(pg_conn* conn) const;
  };
  std::unique_ptr<pg_conn, Closer> conn_;
  std::string shown_url_;
  bool prepared_ = false;
};

}  // namespace sf
