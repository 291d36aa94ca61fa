// `sightflow query`: read-only SQL on a results database. Values come back typed, each output format is
// exact, everything that would write (or change the connection) is refused by name and leaves the file as
// it was, and the CLI prints rows on stdout and errors on stderr with exit status 1.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/sql_query.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

// A connection of the test's own (read-write), to build the database and to check it afterwards.
class Connection {
 public:
  explicit Connection(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) ADD_FAILURE() << "cannot open " << path;
  }
  ~Connection() { sqlite3_close_v2(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK)
      ADD_FAILURE() << sql << ": " << (error ? error : "?");
    sqlite3_free(error);
  }
  std::string text(const std::string& sql) {  // the first column of the first row, as text
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    else
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_ / "results.db").string();
    Connection c(db_);
    // WAL, as the store writes it; the index gives DROP INDEX and REINDEX something to touch.
    c.exec(R"(PRAGMA journal_mode = WAL;
      CREATE TABLE results(stream TEXT, algo TEXT, frame INTEGER, ts REAL, count INTEGER, json TEXT);
      CREATE INDEX results_frame ON results(stream, algo, frame);
      INSERT INTO results VALUES
        ('door', 'hog', 0, 1700000000.0, 2, '{"n":2}'),
        ('door', 'hog', 1, 1700000000.5, 3, '{"n":3}'),
        ('door', 'yolox', 0, 1700000000.0, 1, '{"n":1}'),
        ('yard, north', 'hog', 0, 1700000000.25, 0, 'say "hi"'),
        ('yard, north', 'hog', 1, 1700000000.75, NULL, NULL);
      PRAGMA user_version = 3;)");
  }

  std::string printed(const std::string& sql, QueryFormat format) {
    std::ostringstream out;
    print_query_result(run_read_only_query(db_, sql), format, out);
    return out.str();
  }

  // The message of the QueryError a query throws ("" when it runs).
  std::string error_of(const std::string& sql) {
    try {
      run_read_only_query(db_, sql);
    } catch (const QueryError& e) {
      return e.what();
    }
    return "";
  }

  test::TempDir dir_;
  std::string db_;
};

const char* kHogRows =
    "SELECT stream, frame, count, json FROM results WHERE algo = 'hog' ORDER BY stream, frame";

TEST_F(QueryTest, GroupByReturnsTypedValues) {
  auto r =
      run_read_only_query(db_,
                          "SELECT stream, algo, count(*) AS runs, sum(count) AS total, avg(count) AS mean "
                          "FROM results GROUP BY stream, algo ORDER BY stream, algo");
  EXPECT_EQ(r.columns, (std::vector<std::string>{"stream", "algo", "runs", "total", "mean"}));
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0], (std::vector<nlohmann::json>{"door", "hog", 2, 5, 2.5}));
  EXPECT_EQ(r.rows[1], (std::vector<nlohmann::json>{"door", "yolox", 1, 1, 1.0}));
  EXPECT_EQ(r.rows[2], (std::vector<nlohmann::json>{"yard, north", "hog", 2, 0, 0.0}));
  EXPECT_TRUE(r.rows[0][2].is_number_integer());
  EXPECT_TRUE(r.rows[1][4].is_number_float());
}

TEST_F(QueryTest, TableAlignsColumnsNumbersToTheRight) {
  EXPECT_EQ(printed(kHogRows, QueryFormat::Table),
            "stream       frame  count  json\n"
            "-----------  -----  -----  --------\n"
            "door             0      2  {\"n\":2}\n"
            "door             1      3  {\"n\":3}\n"
            "yard, north      0      0  say \"hi\"\n"
            "yard, north      1   NULL  NULL\n"
            "(4 rows)\n");
  EXPECT_EQ(printed("SELECT 2.5 AS r, 3.0 AS whole, x'00ff' AS b, 'a\nb' AS text", QueryFormat::Table),
            "  r  whole  b          text\n"
            "---  -----  ---------  ----\n"
            "2.5    3.0  <2 bytes>  a\\nb\n"
            "(1 row)\n");
  EXPECT_EQ(printed("SELECT * FROM results WHERE frame > 9", QueryFormat::Table),
            "stream  algo  frame  ts  count  json\n"
            "------  ----  -----  --  -----  ----\n"
            "(0 rows)\n");
}

TEST_F(QueryTest, CsvQuotesCommasQuotesAndTellsNullFromEmpty) {
  EXPECT_EQ(printed(kHogRows, QueryFormat::Csv),
            "stream,frame,count,json\n"
            "door,0,2,\"{\"\"n\"\":2}\"\n"
            "door,1,3,\"{\"\"n\"\":3}\"\n"
            "\"yard, north\",0,0,\"say \"\"hi\"\"\"\n"
            "\"yard, north\",1,,\n");
  EXPECT_EQ(printed("SELECT '' AS empty, NULL AS missing, 'two\nlines' AS t, x'00ff10' AS b, 0.5 AS half",
                    QueryFormat::Csv),
            "empty,missing,t,b,half\n"
            "\"\",,\"two\nlines\",AP8Q,0.5\n");
}

TEST_F(QueryTest, JsonIsOneArrayOfTypedObjects) {
  auto text = printed(
      "SELECT stream, frame, ts, count, json FROM results WHERE stream = 'yard, north' ORDER BY frame",
      QueryFormat::Json);
  EXPECT_EQ(text,
            "[\n"
            "{\"stream\":\"yard, north\",\"frame\":0,\"ts\":1700000000.25,\"count\":0,\"json\":\"say "
            "\\\"hi\\\"\"},\n"
            "{\"stream\":\"yard, north\",\"frame\":1,\"ts\":1700000000.75,\"count\":null,\"json\":null}\n"
            "]\n");
  auto parsed = nlohmann::json::parse(text);
  ASSERT_TRUE(parsed.is_array());
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_TRUE(parsed[0]["frame"].is_number_integer());
  EXPECT_TRUE(parsed[0]["ts"].is_number_float());
  EXPECT_TRUE(parsed[0]["json"].is_string());
  EXPECT_TRUE(parsed[1]["count"].is_null());

  EXPECT_EQ(printed("SELECT x'00ff10' AS b, 1 AS x, 2 AS x", QueryFormat::Json),
            "[\n{\"b\":\"AP8Q\",\"x\":1,\"x_2\":2}\n]\n");
  EXPECT_EQ(printed("SELECT * FROM results WHERE frame > 9", QueryFormat::Json), "[]\n");
}

TEST_F(QueryTest, EveryWriteIsRefusedByNameAndTheDataStaysAsItWas) {
  auto other = (dir_ / "other.db").string();
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"INSERT INTO results(stream) VALUES ('x')", "(INSERT into results)"},
      {"UPDATE results SET count = 0", "(UPDATE of results.count)"},
      {"DELETE FROM results", "(DELETE from results)"},
      {"WITH doomed AS (SELECT 1) DELETE FROM results", "(DELETE from results)"},
      {"DROP TABLE results", "(DROP TABLE results)"},
      {"DROP INDEX results_frame", "(DROP INDEX results_frame)"},
      {"CREATE TABLE t(x)", "(CREATE TABLE t)"},
      {"CREATE TEMP TABLE t AS SELECT 1", "(CREATE TEMP TABLE t)"},
      {"CREATE INDEX i ON results(ts)", "(CREATE INDEX i ON results)"},
      {"ALTER TABLE results ADD COLUMN z", "(ALTER TABLE results)"},
      {"ATTACH DATABASE '" + other + "' AS other", "(ATTACH DATABASE '" + other + "')"},
      {"DETACH DATABASE main", "(DETACH DATABASE main)"},
      {"BEGIN", "(BEGIN)"},
      {"SAVEPOINT s", "(SAVEPOINT s)"},
      {"PRAGMA user_version=7", "(PRAGMA user_version = 7)"},
      {"PRAGMA journal_mode=DELETE", "(PRAGMA journal_mode = DELETE)"},
      {"PRAGMA wal_checkpoint", "(PRAGMA wal_checkpoint, which is not on the read-only list)"},
      {"SELECT load_extension('x')", "(function load_extension)"},
      {"VACUUM", "(VACUUM)"},
      {"VACUUM INTO '" + other + "'", "(VACUUM)"},
      {"REINDEX", "(REINDEX results_frame)"},
      {"ANALYZE", ""},
  };
  for (const auto& [sql, action] : refused) {
    auto error = error_of(sql);
    EXPECT_NE(error.find("query refused: sightflow query is read-only " + action), std::string::npos)
        << sql << " -> " << error;
  }
  EXPECT_EQ(error_of("SELECT 1; DELETE FROM results"),
            "query refused: one statement per query (found more after the first: \"DELETE FROM results\")");
  EXPECT_NE(error_of("SELECT 1; SELECT 2").find("one statement per query"), std::string::npos);
  // SQLite refuses direct writes to its schema table itself.
  EXPECT_NE(error_of("DELETE FROM sqlite_master").find("may not be modified"), std::string::npos);

  Connection c(db_);
  EXPECT_EQ(c.text("SELECT count(*) FROM results"), "5");
  EXPECT_EQ(c.text("SELECT sum(count) FROM results"), "6");
  EXPECT_EQ(c.text("PRAGMA user_version"), "3");
  EXPECT_EQ(c.text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(c.text("SELECT count(*) FROM sqlite_master WHERE name = 'results_frame'"), "1");
  EXPECT_FALSE(std::filesystem::exists(other));
}

TEST_F(QueryTest, ReadingStatementsAndPragmasRun) {
  auto info = run_read_only_query(db_, "PRAGMA table_info(results)");
  ASSERT_EQ(info.rows.size(), 6u);
  EXPECT_EQ(info.columns.at(1), "name");
  EXPECT_EQ(info.rows[0][1], "stream");
  EXPECT_EQ(info.rows[5][1], "json");
  EXPECT_EQ(run_read_only_query(db_, "SELECT count(*) FROM results").rows.at(0).at(0), 5);
  EXPECT_EQ(run_read_only_query(db_,
                                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
                                "SELECT sum(i) FROM n")
                .rows.at(0)
                .at(0),
            15);
  EXPECT_EQ(run_read_only_query(db_, "PRAGMA user_version").rows.at(0).at(0), 3);
  EXPECT_EQ(run_read_only_query(db_, "PRAGMA journal_mode").rows.at(0).at(0), "wal");
  EXPECT_EQ(run_read_only_query(db_, "PRAGMA integrity_check").rows.at(0).at(0), "ok");
  EXPECT_EQ(run_read_only_query(db_, "PRAGMA index_list(results)").rows.size(), 1u);
  // Table-valued functions: JSON inside the results, and pragmas as tables.
  EXPECT_EQ(run_read_only_query(db_,
                                "SELECT sum(j.value) FROM results, json_each(results.json) AS j "
                                "WHERE json_valid(results.json) AND j.key = 'n'")
                .rows.at(0)
                .at(0),
            6);
  EXPECT_EQ(run_read_only_query(db_, "SELECT count(*) FROM pragma_table_info('results')").rows.at(0).at(0),
            6);
  EXPECT_EQ(run_read_only_query(db_, "VALUES (1), (2)").rows.size(), 2u);
  EXPECT_EQ(run_read_only_query(db_, "EXPLAIN QUERY PLAN SELECT * FROM results WHERE stream = 'door'")
                .columns.size(),
            4u);
  // Comments and semicolons after the one statement are not a second statement.
  EXPECT_EQ(run_read_only_query(db_, "/* how many */ SELECT 1 AS one; -- done\n ; /* really */").rows.size(),
            1u);
}

TEST_F(QueryTest, AWriterHoldingTheDatabaseDoesNotBlockTheQuery) {
  Connection writer(db_);
  writer.exec("BEGIN IMMEDIATE; INSERT INTO results(stream) VALUES ('uncommitted')");
  EXPECT_EQ(run_read_only_query(db_, "SELECT count(*) FROM results", 100).rows.at(0).at(0), 5);
  writer.exec("COMMIT");
  EXPECT_EQ(run_read_only_query(db_, "SELECT count(*) FROM results", 100).rows.at(0).at(0), 6);
}

TEST_F(QueryTest, ErrorsSayWhatWentWrong) {
  auto missing = (dir_ / "missing.db").string();
  try {
    run_read_only_query(missing, "SELECT 1");
    ADD_FAILURE() << "a missing database opened";
  } catch (const QueryError& e) {
    EXPECT_EQ(std::string(e.what()), "no such database file: " + missing);
  }
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_NE(error_of("SELEC stream FROM results").find("near \"SELEC\": syntax error"), std::string::npos);
  EXPECT_NE(error_of("SELECT * FROM nope").find("no such table: nope"), std::string::npos);
  EXPECT_NE(error_of("SELECT * FROM nope").find(db_), std::string::npos);
  EXPECT_EQ(error_of("  -- nothing here\n"), "no SQL statement given");
  EXPECT_THROW(run_read_only_query(dir_.path().string(), "SELECT 1"), QueryError);

  auto not_db = dir_ / "notes.txt";
  std::ofstream(not_db)
      << "these are not the pages you are looking for, not even close to a database header\n";
  try {
    run_read_only_query(not_db.string(), "SELECT 1 FROM sqlite_master");
    ADD_FAILURE() << "a text file opened as a database";
  } catch (const QueryError& e) {
    EXPECT_NE(std::string(e.what()).find("file is not a database"), std::string::npos) << e.what();
  }
}

TEST(QueryFormatNames, TheThreeParseAndOthersAreRefused) {
  EXPECT_EQ(parse_query_format("table"), QueryFormat::Table);
  EXPECT_EQ(parse_query_format("csv"), QueryFormat::Csv);
  EXPECT_EQ(parse_query_format("JSON"), QueryFormat::Json);
  EXPECT_THROW(parse_query_format("xml"), QueryError);
}

// The built binary: rows on stdout, errors on stderr as "sightflow: error: ..." with exit status 1.
TEST_F(QueryTest, CliPrintsCsvOnStdout) {
  auto out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
  test::ChildProcess child(
      {test::sightflow_bin(), "query", "--db", db_,
       "SELECT stream, count(*) AS runs FROM results GROUP BY stream ORDER BY stream", "--format", "csv"},
      out.string(), err.string());
  ASSERT_EQ(child.wait_exit(60), 0) << test::read_file(err);
  EXPECT_EQ(test::read_file(out), "stream,runs\ndoor,3\n\"yard, north\",2\n");
}

TEST_F(QueryTest, CliRefusesAnInsertOnStderr) {
  auto out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
  test::ChildProcess child(
      {test::sightflow_bin(), "query", "--db", db_, "INSERT INTO results(stream) VALUES ('cli')"},
      out.string(), err.string());
  EXPECT_EQ(child.wait_exit(60), 1);
  EXPECT_EQ(test::read_file(out), "");
  EXPECT_NE(test::read_file(err).find(
                "sightflow: error: query refused: sightflow query is read-only (INSERT into results)"),
            std::string::npos)
      << test::read_file(err);
  Connection c(db_);
  EXPECT_EQ(c.text("SELECT count(*) FROM results"), "5");
}

// A recursive CTE that never ends yields no row to count: only a time limit stops it (--timeout, 5 s by
// default). The wait is bounded; before the limit the query ran until killed.
TEST_F(QueryTest, CliStopsARunawayQueryAtTheTimeout) {
  auto out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
  test::ChildProcess child(
      {test::sightflow_bin(), "query", "--db", db_,
       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", "--timeout",
       "1"},
      out.string(), err.string());
  EXPECT_EQ(child.wait_exit(60), 1);
  EXPECT_TRUE(test::read_file(out).empty()) << test::read_file(out).size() << " bytes on stdout";
  EXPECT_NE(test::read_file(err).find("sightflow: error: query stopped after 1 s (--timeout"),
            std::string::npos)
      << test::read_file(err);
}

TEST_F(QueryTest, CliStopsARunawayQueryAtTheDefaultTimeout) {
  auto out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
  test::ChildProcess child(
      {test::sightflow_bin(), "query", "--db", db_,
       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"},
      out.string(), err.string());
  EXPECT_EQ(child.wait_exit(60), 1);
  EXPECT_NE(test::read_file(err).find("sightflow: error: query stopped after 5 s"), std::string::npos)
      << test::read_file(err);
}

// Every row is held until printed: a result past --max-rows (100000 by default) is an error, not a
// process that fills memory.
TEST_F(QueryTest, CliStopsAtTheRowLimit) {
  auto out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
  test::ChildProcess child(
      {test::sightflow_bin(), "query", "--db", db_,
       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT x FROM c"},
      out.string(), err.string());
  EXPECT_EQ(child.wait_exit(60), 1);
  EXPECT_TRUE(test::read_file(out).empty()) << test::read_file(out).size() << " bytes on stdout";
  EXPECT_NE(test::read_file(err).find("sightflow: error: query stopped: more than 100000 rows (--max-rows"),
            std::string::npos)
      << test::read_file(err);
  // Within the limit, every row arrives.
  EXPECT_EQ(
      run_read_only_query(db_,
                          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) "
                          "SELECT x FROM c",
                          5000, QueryLimits{5, 10})
          .rows.size(),
      10u);
}

}  // namespace
}  // namespace sf
