// The store through `sightflow run --db`: every result lands once, a rerun adds nothing, a killed writer
// leaves a consistent file with everything it reported as stored, archived frames match their rows.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "media/jpeg_codec.hpp"
#include "sightflow/store.hpp"
#include "store/frame_archive.hpp"
#include "store_backends.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

int64_t scalar(Store& store, const std::string& sql) {
  return store.query(sql).rows.at(0).at(0).get<int64_t>();
}

// The largest N in the writer's "committed K results (N stored in total)" debug lines.
int64_t largest_stored_total(const std::string& log) {
  static const std::string kMarker = " stored in total)";
  int64_t largest = 0;
  for (auto end = log.find(kMarker); end != std::string::npos; end = log.find(kMarker, end + 1)) {
    auto open = log.rfind('(', end);
    if (open == std::string::npos) continue;
    try {
      largest = std::max<int64_t>(largest, std::stoll(log.substr(open + 1, end - open - 1)));
    } catch (const std::exception&) {
    }
  }
  return largest;
}

TEST(StoreCli, EveryFrameOfVtestLandsOnceAndARerunAddsNothing) {
  test::TempDir dir;
  auto db = (dir / "results.db").string();
  std::vector<std::string> argv = {test::sightflow_bin(),
                                   "run",
                                   "--detector",
                                   "yolo-fastest-body",
                                   "--db",
                                   db,
                                   "--out",
                                   (dir / "results.jsonl").string(),
                                   "--no-progress"};
  // All 795 frames of vtest.avi; under a sanitizer the first 150.
  const int64_t frames = test::sanitized_build() ? 150 : 795;
  if (test::sanitized_build()) argv.insert(argv.end(), {"--max-frames", std::to_string(frames)});
  const auto n = std::to_string(frames);
  std::string output;
  ASSERT_EQ(test::run_command(argv, &output), 0) << output;
  EXPECT_NE(output.find(n + " results stored (0 already there)"), std::string::npos) << output;
  ASSERT_EQ(test::run_command(argv, &output), 0) << output;
  EXPECT_NE(output.find("0 results stored (" + n + " already there)"), std::string::npos) << output;

  auto store = open_store(db);
  EXPECT_EQ(scalar(*store, "SELECT count(*) FROM results"), frames);
  EXPECT_EQ(scalar(*store, "SELECT count(DISTINCT frame) FROM results WHERE frame BETWEEN 0 AND " +
                               std::to_string(frames - 1)),
            frames);
  EXPECT_EQ(scalar(*store, "SELECT count(*) FROM frames WHERE width = 768 AND height = 576"), frames);
  // The detector is deterministic: the rerun's JSON Lines agree with the stored rows, box for box.
  auto lines = test::read_jsonl(dir / "results.jsonl");
  ASSERT_EQ(int64_t(lines.size()), frames);
  int64_t boxes = 0;
  for (const auto& line : lines) boxes += int64_t(line["detections"].size());
  EXPECT_GT(boxes, frames);
  EXPECT_EQ(scalar(*store, "SELECT count(*) FROM detections"), boxes);
  EXPECT_EQ(scalar(*store, "SELECT sum(count) FROM results"), boxes);
  EXPECT_EQ(scalar(*store,
                   "SELECT sum(samples) FROM rollups WHERE level = '1h' AND label = '*' AND clock = 'wall'"),
            frames);
}

// Against each backend: a SQLite file, and a PostgreSQL server the test starts.
class StoreCliKill : public ::testing::TestWithParam<std::string> {};

TEST_P(StoreCliKill, AKilledWriterLeavesEverythingItReportedAsStored) {
  test::TempDir dir;
  auto backend = test::make_store_backend(GetParam(), dir.path());
  auto db = backend->url();
  auto log = dir / "stderr.txt";
  test::ChildProcess writer(
      {test::sightflow_bin(), "--log-level", "debug", "run", "--detector", "yolo-fastest-body", "--db", db,
       "--out", (dir / "r.jsonl").string(), "--no-progress"},
      "/dev/null", log.string());
  // Wait until the writer has reported a few hundred results as committed (a sanitized writer on a loaded
  // host takes minutes), then kill it mid-run.
  int64_t reported = 0;
  for (int i = 0; i < 3000 && reported < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reported = std::max(reported, largest_stored_total(test::read_file(log)));
  }
  ASSERT_GE(reported, 200) << test::read_file(log);
  ::kill(writer.pid(), SIGKILL);
  writer.wait_exit(10);
  ASSERT_LT(reported, 795) << "the run ended before it could be killed";

  auto store = open_store(db);
  if (GetParam() == "sqlite") {
    EXPECT_EQ(store->query("PRAGMA integrity_check").rows.at(0).at(0), "ok");
  }
  int64_t stored = scalar(*store, "SELECT count(*) FROM results");
  EXPECT_GE(stored, reported);
  // Transactions are whole: every stored result has exactly its detections and its roll-up samples.
  EXPECT_EQ(scalar(*store,
                   "SELECT count(*) FROM results r WHERE count != (SELECT count(*) FROM detections d"
                   " WHERE d.stream = r.stream AND d.algo = r.algo AND d.frame = r.frame)"),
            0);
  EXPECT_EQ(scalar(*store,
                   "SELECT sum(samples) FROM rollups WHERE level = '1m' AND label = '*' AND clock = 'wall'"),
            stored);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreCliKill, ::testing::ValuesIn(test::store_backends()),
                         [](const auto& info) { return info.param; });

TEST(StoreCli, ArchivedFramesAndTheirRowsMatch) {
  test::TempDir dir;
  auto db = (dir / "results.db").string();
  auto archive = dir / "frames";
  std::string output;
  ASSERT_EQ(test::run_command({test::sightflow_bin(), "run", "--detector", "yolo-fastest-body", "--classes",
                               "no-such-label", "--max-frames", "60", "--db", db, "--archive",
                               archive.string(), "--archive-every", "10", "--archive-annotated", "--out",
                               (dir / "r.jsonl").string(), "--no-progress"},
                              &output),
            0)
      << output;
  auto store = open_store(db);
  auto rows = store->archived_frames();
  // The class filter leaves no detection: only every 10th analysed frame is kept.
  ASSERT_EQ(rows.size(), 6u);
  std::set<std::string> named;
  for (const auto& row : rows) {
    EXPECT_EQ(row.seq % 10, 0);
    auto file = archive / row.archive_path;
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    auto bytes = test::read_file(file);
    auto image = decode_jpeg(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    EXPECT_EQ(image.cols, 768);
    EXPECT_EQ(image.rows, 576);
    named.insert(file.lexically_normal().string());
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(archive)) {
    if (!entry.is_regular_file()) continue;
    auto path = entry.path().lexically_normal().string();
    if (path.find(".annotated.") != std::string::npos) continue;  // the annotated copy of a named frame
    EXPECT_TRUE(named.count(path)) << "file without a row: " << path;
  }
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

TEST(StoreCli, ArchiveSizeLimitHoldsAndLeavesNoOrphans) {
  test::TempDir dir;
  auto config = dir / "archive.yaml";
  std::ofstream(config) << "streams: [{name: street, source: " << test::vtest_path() << "}]\n"
                        << "algorithms: [{detector: yolo-fastest-body}]\n"
                        << "sinks:\n  db: " << (dir / "r.db").string()
                        << "\n  archive: {dir: " << (dir / "frames").string()
                        << ", max_mb: 0.5, quality: 90}\n";
  std::string output;
  ASSERT_EQ(test::run_command({test::sightflow_bin(), "run", "--config", config.string(), "--max-frames",
                               "40", "--no-progress"},
                              &output),
            0)
      << output;
  auto store = open_store((dir / "r.db").string());
  auto rows = store->archived_frames();
  int64_t bytes_on_disk = 0, files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "frames")) {
    if (!entry.is_regular_file()) continue;
    bytes_on_disk += int64_t(entry.file_size());
    ++files;
  }
  // People in every frame: all 40 were kept, then the oldest deleted down to 0.5 MB (~70 KB each).
  EXPECT_LE(bytes_on_disk, 500000);
  EXPECT_GT(rows.size(), 3u);
  EXPECT_LT(rows.size(), 40u);
  EXPECT_EQ(files, int64_t(rows.size()));
  for (const auto& row : rows) EXPECT_TRUE(std::filesystem::exists(dir / "frames" / row.archive_path));
  // The newest frames are the ones left.
  EXPECT_EQ(rows.back().seq, 39);
}

}  // namespace
}  // namespace sf
