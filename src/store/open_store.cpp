#include "sightflow/store.hpp"
#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace sf {

std::unique_ptr<Store> open_store(const std::string& where) {
  if (where.empty()) throw StoreError("no database given (a file path or a postgresql:// URL)");
  if (where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0)
    return std::make_unique<PostgresStore>(where);
  return std::make_unique<SqliteStore>(where);
}

}  // namespace sf
