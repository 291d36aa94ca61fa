#include "store/sql_query.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <set>
#include <string_view>

#include "common/base64.hpp"

namespace sf {
namespace {

constexpr const char* kReadOnly = "query refused: sightflow query is read-only";
const nlohmann::json kNull;  // stands in for a value a short row lacks

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Pragmas that only report, when given no value: with one (`PRAGMA user_version = 7`) most of them write.
const std::set<std::string, std::less<>> kReadPragmas = {
    "application_id", "auto_vacuum",    "collation_list", "compile_options", "data_version",
    "database_list",  "encoding",       "foreign_keys",   "freelist_count",  "function_list",
    "journal_mode",   "max_page_count", "module_list",    "page_count",      "page_size",
    "pragma_list",    "schema_version", "synchronous",    "user_version"};
// Pragmas whose argument only says what to inspect (a table, an index, a limit on reported problems).
const std::set<std::string, std::less<>> kInspectPragmas = {
    "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
    "integrity_check",   "quick_check",      "table_info", "table_list", "table_xinfo"};

bool pragma_allowed(const char* name, const char* arg) {
  auto key = lower(name ? name : "");
  if (kInspectPragmas.count(key)) return true;
  return arg == nullptr && kReadPragmas.count(key);
}

bool is_schema_table(const char* name) {
  auto key = lower(name ? name : "");
  return key == "sqlite_master" || key == "sqlite_schema" || key == "sqlite_temp_master" ||
         key == "sqlite_temp_schema";
}

// What a refused action was, in SQL words, for the error message: "INSERT into results".
std::string describe_action(int code, const char* a3, const char* a4) {
  std::string x = a3 ? a3 : "", y = a4 ? a4 : "";
  switch (code) {
    case SQLITE_INSERT:
      return "INSERT into " + x;
    case SQLITE_UPDATE:
      return "UPDATE of " + x + (y.empty() ? "" : "." + y);
    case SQLITE_DELETE:
      return "DELETE from " + x;
    case SQLITE_CREATE_TABLE:
      return "CREATE TABLE " + x;
    case SQLITE_CREATE_TEMP_TABLE:
      return "CREATE TEMP TABLE " + x;
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TEMP_INDEX:
      return "CREATE INDEX " + x + " ON " + y;
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_TEMP_TRIGGER:
      return "CREATE TRIGGER " + x + " ON " + y;
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TEMP_VIEW:
      return "CREATE VIEW " + x;
    case SQLITE_CREATE_VTABLE:
      return "CREATE VIRTUAL TABLE " + x + " USING " + y;
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_TABLE:
      return "DROP TABLE " + x;
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TEMP_INDEX:
      return "DROP INDEX " + x;
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_TEMP_TRIGGER:
      return "DROP TRIGGER " + x;
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TEMP_VIEW:
      return "DROP VIEW " + x;
    case SQLITE_DROP_VTABLE:
      return "DROP VIRTUAL TABLE " + x;
    case SQLITE_ALTER_TABLE:
      return "ALTER TABLE " + y;
    case SQLITE_ATTACH:
      return "ATTACH DATABASE '" + x + "'";
    case SQLITE_DETACH:
      return "DETACH DATABASE " + x;
    case SQLITE_TRANSACTION:
      return x;  // BEGIN, COMMIT or ROLLBACK
    case SQLITE_SAVEPOINT:
      return (x == "BEGIN" ? "SAVEPOINT " : x == "RELEASE" ? "RELEASE " : "ROLLBACK TO ") + y;
    case SQLITE_REINDEX:
      return "REINDEX " + x;
    case SQLITE_ANALYZE:
      return "ANALYZE " + x;
    case SQLITE_PRAGMA:
      if (a4) return "PRAGMA " + x + " = " + y;
      return "PRAGMA " + x + ", which is not on the read-only list";
    case SQLITE_FUNCTION:
      return "function " + y;
  }
  return "authorizer action " + std::to_string(code);
}

struct AuthState {
  std::string denied;           // the first action refused: why prepare (or a re-prepare) failed
  bool allowed_pragma = false;  // an allowed pragma may still look like a writer (journal_mode does)
};

int authorize(void* user, int code, const char* a3, const char* a4, const char* /*db*/, const char* /*via*/) {
  auto& state = *static_cast<AuthState*>(user);
  switch (code) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (a4 && lower(a4) != "load_extension") return SQLITE_OK;
      break;
    case SQLITE_PRAGMA:
      if (pragma_allowed(a3, a4)) {
        state.allowed_pragma = true;
        return SQLITE_OK;
      }
      break;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
      // Every CREATE and DROP first asks to write the schema table, and building a table-valued function
      // (json_each, pragma_table_info) asks to update it without writing: let those through, so that the
      // DDL is refused under its own name and plain reads work. A user's own write to the schema table is
      // refused by SQLite itself (defensive mode), and the connection is read-only anyway.
      if (is_schema_table(a3)) return SQLITE_OK;
      break;
  }
  if (state.denied.empty()) state.denied = describe_action(code, a3, a4);
  return SQLITE_DENY;
}

// Past whitespace, semicolons and comments (-- to the end of the line, /* */), from `i`.
size_t skip_blank(std::string_view s, size_t i, bool semicolons) {
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) || (semicolons && c == ';')) {
      ++i;
    } else if (s.substr(i, 2) == "--") {
      auto end = s.find('\n', i);
      i = end == std::string_view::npos ? s.size() : end + 1;
    } else if (s.substr(i, 2) == "/*") {
      auto end = s.find("*/", i + 2);  // unterminated: SQLite reads the rest as the comment
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else {
      break;
    }
  }
  return i;
}

std::string first_keyword(std::string_view sql) {
  size_t i = skip_blank(sql, 0, false), j = i;
  while (j < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
  return upper(sql.substr(i, j - i));
}

std::string shorten(std::string_view s, size_t max) {
  std::string out(s.substr(0, s.find_last_not_of(" \t\r\n;") + 1));
  if (out.size() > max) out = out.substr(0, max) + "...";
  return out;
}

nlohmann::json column_value(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return int64_t(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT: {
      auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return std::string(text, size_t(sqlite3_column_bytes(stmt, i)));
    }
    case SQLITE_BLOB: {
      auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, i));
      auto size = size_t(sqlite3_column_bytes(stmt, i));
      return nlohmann::json::binary(data ? std::vector<uint8_t>(data, data + size) : std::vector<uint8_t>{});
    }
  }
  return nullptr;
}

// A blob as the table, CSV and JSON show it.
std::string base64(const std::vector<uint8_t>& bytes) {
  return base64_encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

// A real as SQL tools print it: shortest text that reads back the same, always with a '.' or exponent so
// it does not look like an integer ("3.0").
std::string real_text(double v) {
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  return nlohmann::json(v).dump();
}

// A value's text for the table and CSV; nulls and blobs are each format's business.
std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return real_text(v.get<double>());
  return v.dump();  // integers
}

std::string table_cell(const nlohmann::json& v) {
  if (v.is_null()) return "NULL";
  if (v.is_binary()) return "<" + std::to_string(v.get_binary().size()) + " bytes>";
  std::string out;
  for (char c : scalar_text(v)) {  // one row per line: control characters that break lines shown escaped
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out;
}

// Characters on screen, near enough: UTF-8 code points (continuation bytes do not count).
size_t display_width(const std::string& s) {
  return size_t(std::count_if(s.begin(), s.end(),
                              [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void print_table(const QueryResult& r, std::ostream& out) {
  size_t n = r.columns.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width(n, 0);
  std::vector<bool> numeric(n, false), other(n, false);
  for (size_t c = 0; c < n; ++c) width[c] = display_width(r.columns[c]);
  for (const auto& row : r.rows) {
    auto& line = cells.emplace_back();
    for (size_t c = 0; c < n; ++c) {
      const auto& v = c < row.size() ? row[c] : kNull;
      if (v.is_number())
        numeric[c] = true;
      else if (!v.is_null())
        other[c] = true;
      line.push_back(table_cell(v));
      width[c] = std::max(width[c], display_width(line.back()));
    }
  }
  auto print_line = [&](const std::vector<std::string>& fields) {
    std::string text;
    for (size_t c = 0; c < n; ++c) {
      if (c) text += "  ";
      std::string pad(width[c] - display_width(fields[c]), ' ');
      bool right = numeric[c] && !other[c];  // a column of numbers (and NULLs) reads best right-aligned
      text += right ? pad + fields[c] : fields[c] + pad;
    }
    text.erase(text.find_last_not_of(' ') + 1);
    out << text << '\n';
  };
  if (n > 0) {
    print_line(r.columns);
    std::vector<std::string> dashes;
    for (size_t c = 0; c < n; ++c) dashes.emplace_back(width[c], '-');
    print_line(dashes);
    for (const auto& line : cells) print_line(line);
  }
  out << '(' << r.rows.size() << (r.rows.size() == 1 ? " row)" : " rows)") << '\n';
}

std::string csv_field(const std::string& s) {
  // RFC 4180: quote a field holding a separator, a quote or a line break, doubling its quotes; the empty
  // string is quoted too, so that it differs from NULL (an empty field).
  if (!s.empty() && s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

void print_csv(const QueryResult& r, std::ostream& out) {
  for (size_t c = 0; c < r.columns.size(); ++c) out << (c ? "," : "") << csv_field(r.columns[c]);
  out << '\n';
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < r.columns.size(); ++c) {
      if (c) out << ',';
      const auto& v = c < row.size() ? row[c] : kNull;
      if (v.is_binary())
        out << base64(v.get_binary());
      else if (!v.is_null())  // NULL: an empty field
        out << csv_field(scalar_text(v));
    }
    out << '\n';
  }
}

// JSON object keys must differ; a second "x" (SELECT a.x, b.x) becomes "x_2".
std::vector<std::string> unique_keys(const std::vector<std::string>& columns) {
  std::vector<std::string> keys;
  std::set<std::string> seen(columns.begin(), columns.end()), used;
  for (const auto& name : columns) {
    std::string key = name;
    // Skips a suffixed name that another column really has.
    for (int k = 2; used.count(key) || (key != name && seen.count(key)); ++k)
      key = name + "_" + std::to_string(k);
    used.insert(key);
    keys.push_back(key);
  }
  return keys;
}

void print_json(const QueryResult& r, std::ostream& out) {
  auto keys = unique_keys(r.columns);
  auto dump = [](const nlohmann::json& v) {
    // Invalid UTF-8 in a text value is replaced rather than failing the whole output.
    return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  out << '[';
  for (size_t i = 0; i < r.rows.size(); ++i) {
    out << (i ? ",\n{" : "\n{");  // one row per line: readable, and still one JSON array
    for (size_t c = 0; c < keys.size(); ++c) {
      const auto& v = c < r.rows[i].size() ? r.rows[i][c] : kNull;
      out << (c ? "," : "") << dump(keys[c]) << ':'
          << (v.is_binary() ? dump(base64(v.get_binary())) : dump(v));
    }
    out << '}';
  }
  out << (r.rows.empty() ? "]\n" : "\n]\n");
}

}  // namespace

QueryFormat parse_query_format(const std::string& name) {
  auto key = lower(name);
  if (key == "table") return QueryFormat::Table;
  if (key == "csv") return QueryFormat::Csv;
  if (key == "json") return QueryFormat::Json;
  throw QueryError("unknown output format '" + name + "' (table, csv or json)");
}

QueryResult run_read_only_query(const std::string& db_path, const std::string& sql, int busy_timeout_ms,
                                const QueryLimits& limits) {
  try {
    validate(limits);
  } catch (const std::invalid_argument& e) {
    throw QueryError(e.what());
  }
  // An empty name would give a private temporary database, ":memory:" an empty one: neither is a file.
  std::error_code ec;
  if (db_path.empty()) throw QueryError("no database file given");
  if (!std::filesystem::exists(db_path, ec)) throw QueryError("no such database file: " + db_path);
  if (std::filesystem::is_directory(db_path, ec))
    throw QueryError(db_path + " is a folder, not a database file");

  sqlite3* raw = nullptr;
  // Without SQLITE_OPEN_CREATE a file that vanished since the check is an error, never a new empty file.
  int rc = sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, CloseDb> db(raw);
  if (rc != SQLITE_OK)
    throw QueryError("cannot open " + db_path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1,
                    static_cast<int*>(nullptr));  // no writable_schema and the like
  AuthState auth;
  sqlite3_set_authorizer(db.get(), authorize, &auth);

  auto failed = [&]() -> QueryError {
    // Prepare stops at the first denial, reported as SQLITE_AUTH or SQLITE_ERROR depending on the statement.
    if (!auth.denied.empty()) return QueryError(std::string(kReadOnly) + " (" + auth.denied + ")");
    return QueryError("query on " + db_path + " failed: " + sqlite3_errmsg(db.get()));
  };

  sqlite3_stmt* raw_stmt = nullptr;
  const char* tail = nullptr;
  rc = sqlite3_prepare_v2(db.get(), sql.c_str(), int(sql.size()), &raw_stmt, &tail);
  std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt(raw_stmt);
  if (rc != SQLITE_OK) throw failed();
  if (!stmt) throw QueryError("no SQL statement given");
  std::string_view rest(tail, size_t(sql.data() + sql.size() - tail));
  size_t more = skip_blank(rest, 0, true);
  if (more < rest.size())
    throw QueryError("query refused: one statement per query (found more after the first: \"" +
                     shorten(rest.substr(more), 40) + "\")");
  // Some writers never meet the authorizer at prepare time (VACUUM, even VACUUM INTO a new file): past it,
  // only queries that SQLite itself calls read-only run, and pragmas the authorizer let through (it
  // calls `PRAGMA journal_mode` a writer).
  auto keyword = first_keyword(sql);
  bool query_like = keyword == "SELECT" || keyword == "WITH" || keyword == "VALUES" || keyword == "EXPLAIN";
  if (!(query_like && sqlite3_stmt_readonly(stmt.get())) && !(keyword == "PRAGMA" && auth.allowed_pragma))
    throw QueryError(std::string(kReadOnly) + " (" + (keyword.empty() ? "statement" : keyword) + ")");

  // SQLite calls this every few thousand virtual machine steps, also inside one long step (a recursive
  // CTE counting forever yields no row to check between); non-zero interrupts the statement.
  struct Watch {
    std::chrono::steady_clock::time_point deadline;
    bool expired = false;
  } watch{std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                 std::chrono::duration<double>(limits.timeout_s))};
  if (limits.timeout_s > 0) {
    sqlite3_progress_handler(
        db.get(), 10000,
        [](void* user) {
          auto& w = *static_cast<Watch*>(user);
          w.expired = w.expired || std::chrono::steady_clock::now() > w.deadline;
          return w.expired ? 1 : 0;
        },
        &watch);
  }

  QueryResult result;
  int n = sqlite3_column_count(stmt.get());
  for (int i = 0; i < n; ++i) {
    const char* name = sqlite3_column_name(stmt.get(), i);
    result.columns.push_back(name ? name : "");
  }
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (limits.max_rows > 0 && int64_t(result.rows.size()) >= limits.max_rows)
      throw QueryError(query_rows_message(limits));
    auto& row = result.rows.emplace_back();
    row.reserve(size_t(n));
    for (int i = 0; i < n; ++i) row.push_back(column_value(stmt.get(), i));
  }
  // The authorizer runs again if the schema changed under us (re-prepare) or a pragma table runs its pragma.
  if (rc == SQLITE_INTERRUPT && watch.expired) throw QueryError(query_timeout_message(limits));
  if (rc != SQLITE_DONE) throw failed();
  return result;
}

void print_query_result(const QueryResult& result, QueryFormat format, std::ostream& out) {
  switch (format) {
    case QueryFormat::Table:
      print_table(result, out);
      break;
    case QueryFormat::Csv:
      print_csv(result, out);
      break;
    case QueryFormat::Json:
      print_json(result, out);
      break;
  }
}

}  // namespace sf
