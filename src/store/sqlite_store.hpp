#pragma once
#include "sightflow/store.hpp"
#include "store/sqlite_db.hpp"

namespace sf {

// One connection, used by one writer thread at a time (the store sink's).
class SqliteStore : public Store {
 public:
  explicit SqliteStore(const std::string& path);
  size_t write(const std::vector<Result>& results, const std::vector<FrameRecord>& frames) override;
  std::vector<FrameRecord> archived_frames(const std::string& stream) override;
  void clear_archive(const std::string& stream, int64_t seq) override;
  void apply_retention(const RetentionPolicy& policy, double now) override;
  QueryRows query(const std::string& sql) override;
  std::string describe() const override { return "sqlite:" + db_.path(); }

 protected:
  QueryRows select(const std::string& sql, const std::vector<nlohmann::json>& params) override;

 private:
  void migrate();
  sqlite::Database db_;
};

}  // namespace sf
