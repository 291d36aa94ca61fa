#pragma once
// `sightflow query`: one read-only SQL statement against a sightflow SQLite database, its rows printed as
// an aligned table, CSV or JSON. Read-only three times over: the connection is opened read-only (nothing
// reaches the file); an authorizer refuses at prepare time whatever would write or change the connection
// (ATTACH, a temporary table, PRAGMA x = y), so that a refusal names the action instead of sqlite's bare
// "not authorized"; and what gets past it must be a query SQLite itself calls read-only.
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "sightflow/store.hpp"
#include "store/query_limits.hpp"

namespace sf {

// A query that cannot run: the database cannot be opened, the SQL does not prepare or fails, or it was
// refused ("query refused: ..."). what() says which, with sqlite's own text where there is one.
class QueryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class QueryFormat { Table, Csv, Json };

// "table", "csv" or "json"; throws QueryError naming anything else.
QueryFormat parse_query_format(const std::string& name);

// Column names, then values typed as SQLite stored them: integers, reals, strings, null, and blobs as
// nlohmann binary values.
using QueryResult = QueryRows;

// Runs exactly one statement: SELECT / WITH ... SELECT, VALUES, or a PRAGMA that only reads (table_info,
// user_version, integrity_check, ...). A missing file is an error (never created). A writer holding the
// database is waited for up to busy_timeout_ms; in WAL mode it does not block readers at all. A statement
// that runs past limits.timeout_s or returns more than limits.max_rows rows is stopped (QueryError).
QueryResult run_read_only_query(const std::string& db_path, const std::string& sql,
                                int busy_timeout_ms = 5000, const QueryLimits& limits = {});

// Table: a header, a dashed line, aligned columns (numbers to the right), NULL as "NULL", blobs as
// "<N bytes>", then "(N rows)". CSV: a header row, RFC 4180 quoting, NULL as an empty field and the empty
// string as "", blobs in base64. JSON: one array of objects, one per line, keys in column order, blobs in
// base64.
void print_query_result(const QueryResult& result, QueryFormat format, std::ostream& out);

}  // namespace sf
