// `sightflow query`: one read-only SQL statement against a results database, printed as a table, CSV or
// JSON on stdout.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/output_flags.hpp"
#include "store/postgres_store.hpp"
#include "store/sql_query.hpp"

namespace sf::cli {
namespace {

struct QueryFlags {
  std::string db;
  std::string sql;
  std::string format = "table";
  QueryLimits limits;
};

}  // namespace

Command add_query_command(CLI::App& app) {
  auto flags = std::make_shared<QueryFlags>();
  auto* cmd = app.add_subcommand("query", "Run one read-only SQL statement on a results database (SQLite)");
  add_db_flag(*cmd, flags->db, "the store written by `sightflow run --db`")
      ->required();  // a missing file is the query's own error (exit 1), never created
  cmd->add_option("sql", flags->sql, "one statement: SELECT, WITH ... SELECT, VALUES or a read-only PRAGMA")
      ->required();
  cmd->add_option("--format", flags->format, "table, csv or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json"}));
  cmd->add_option("--timeout", flags->limits.timeout_s,
                  "stop the statement after this many seconds (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--max-rows", flags->limits.max_rows,
                  "stop when the statement returns more rows (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  return [flags] {
    // Every row is read before anything is printed, so an error never leaves half a result on stdout.
    bool postgres = flags->db.rfind("postgresql://", 0) == 0 || flags->db.rfind("postgres://", 0) == 0;
    auto result = postgres ? postgres_read_only_query(flags->db, flags->sql, flags->limits)
                           : run_read_only_query(flags->db, flags->sql, 5000, flags->limits);
    print_query_result(result, parse_query_format(flags->format), std::cout);
    std::cout.flush();
    return std::cout ? 0 : 1;
  };
}

}  // namespace sf::cli
