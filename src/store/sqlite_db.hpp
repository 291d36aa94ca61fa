#pragma once
// Thin RAII over the SQLite C API: a connection and prepared statements whose errors throw StoreError
// naming the database and the statement. Only what the store needs; no ORM.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sightflow/store.hpp"

namespace sf::sqlite {

class Statement;

class Database {
 public:
  // flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, or SQLITE_OPEN_READONLY.
  Database(const std::string& path, int flags);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql);  // one or more statements without results
  Statement prepare(std::string_view sql);
  int64_t changes() const { return sqlite3_changes64(db_); }
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(std::string_view what) const;  // throws StoreError with sqlite's message

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Statement {
 public:
  Statement(const Database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, int64_t(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);  // an empty view binds NULL only via bind_null
  Statement& bind_null(int index);
  // Runs to the next row: true while there is one. After the last row the statement is reset, so it can be
  // bound and run again.
  bool step();
  void run() {
    while (step()) {
    }
  }
  int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  double column_double(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string column_text(int i) const;
  bool column_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  int column_count() const { return sqlite3_column_count(stmt_); }
  std::string column_name(int i) const { return sqlite3_column_name(stmt_, i); }
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  const Database* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace sf::sqlite
