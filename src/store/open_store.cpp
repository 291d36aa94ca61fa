#include <filesystem>

#include "sightflow/store.hpp"
#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace sf {

std::unique_ptr<Store> open_store(const std::string& where) {
  if (where.empty()) throw StoreError("no database given (a file path or a postgresql:// URL)");
  if (where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0)
    return std::make_unique<PostgresStore>(where);
  // A new SQLite file may be in a folder that does not exist yet (sightflow-out/...).
  if (auto parent = std::filesystem::path(where).parent_path(); !parent.empty())
    std::filesystem::create_directories(parent);
  return std::make_unique<SqliteStore>(where);
}

}  // namespace sf
