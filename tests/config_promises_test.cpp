// What docs/CONFIG.md promises of a run config's keys, checked through `sightflow run --config` on a few
// frames of vtest.avi: `jsonl: "-"`, one video file per stream, `stats_interval`, `min_score`, `profile:`,
// `decode_threads`, and the store's `retention:` applied by the sink when the run starts.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "sightflow/camera_profile.hpp"
#include "sightflow/frame.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"
#include "web_process.hpp"

namespace sf {
namespace {

// Writes `yaml` as the config and runs it; returns the exit status, output (stdout and stderr) in `output`.
int run_config(const test::TempDir& dir, const std::string& yaml, std::string* output,
               std::vector<std::string> flags = {}) {
  const auto path = dir / "config.yaml";
  std::ofstream(path) << yaml;
  std::vector<std::string> argv{test::sightflow_bin(), "run", "--config", path.string(), "--no-progress"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return test::run_command(argv, output, 300);
}

std::string vtest_stream(const std::string& name = "vtest") {
  return "  - {name: " + name + ", source: " + test::vtest_path() + "}\n";
}

// The JSON objects among the lines of `text`.
std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (auto j = nlohmann::json::parse(line, nullptr, false); j.is_object()) out.push_back(j);
  return out;
}

int count_lines_with(const std::string& text, const std::string& part) {
  int n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(ConfigPromises, JsonlDashWritesTheResultsToStandardOutput) {
  test::TempDir dir;
  std::string out;
  ASSERT_EQ(run_config(dir,
                       "max_frames: 3\nstreams:\n" + vtest_stream() +
                           "algorithms:\n  - {detector: none}\nsinks:\n  jsonl: \"-\"\n  db: " +
                           (dir / "s.db").string() + "\n",
                       &out),
            0)
      << out;
  std::vector<int64_t> frames;
  for (const auto& j : json_lines(out)) frames.push_back(j.at("frame"));
  EXPECT_EQ(frames, (std::vector<int64_t>{0, 1, 2})) << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "-"));
}

TEST(ConfigPromises, AVideoSinkWritesOneFilePerStreamWhenThereAreSeveral) {
  test::TempDir dir;
  std::string out;
  ASSERT_EQ(run_config(dir,
                       "max_frames: 3\nstreams:\n" + vtest_stream("a") + vtest_stream("b") +
                           "algorithms:\n  - {detector: none}\nsinks:\n  jsonl: " +
                           (dir / "r.jsonl").string() + "\n  video: " + (dir / "annotated.mp4").string() +
                           "\n  db: " + (dir / "s.db").string() + "\n",
                       &out),
            0)
      << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "annotated.mp4"));
  for (const char* name : {"annotated.a.mp4", "annotated.b.mp4"}) {
    std::string probe;
    ASSERT_EQ(test::run_command(
                  {"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                   "stream=nb_read_frames,width,height", "-of", "csv=p=0", (dir / name).string()},
                  &probe, 60),
              0)
        << name << ": " << probe;
    EXPECT_EQ(probe.substr(0, probe.find_last_not_of("\n") + 1), "768,576,3") << name;
  }
}

TEST(ConfigPromises, StatsIntervalPrintsStatsLinesInRealTimeAndZeroTurnsThemOff) {
  test::TempDir dir;
  auto config = [&](const std::string& interval) {
    return "mode: realtime\nmax_frames: 15\nstats_interval: " + interval + "\nstreams:\n" + vtest_stream() +
           "algorithms:\n  - {detector: none}\nsinks:\n  jsonl: " + (dir / "r.jsonl").string() +
           "\n  db: " + (dir / "s.db").string() + "\n";
  };
  std::string out;
  ASSERT_EQ(run_config(dir, config("0.4"), &out), 0) << out;
  EXPECT_GE(count_lines_with(out, "[vtest] in "), 1) << "15 frames at 10 fps last 1.5 s: " << out;
  ASSERT_EQ(run_config(dir, config("0"), &out), 0) << out;
  EXPECT_EQ(count_lines_with(out, "[vtest] in "), 0) << out;
}

// hog's detections on two frames, then the same run with `min_score:` and with a `profile:` that sets
// the person threshold: each keeps exactly the detections scoring at least its threshold.
TEST(ConfigPromises, MinScoreAndAProfileKeepExactlyTheDetectionsAboveTheirThreshold) {
  test::TempDir dir;
  auto run = [&](const std::string& algorithm) {
    const auto out_file = dir / "r.jsonl";
    std::filesystem::remove(out_file);
    std::string out;
    EXPECT_EQ(run_config(dir,
                         "max_frames: 2\nstreams:\n" + vtest_stream() + "algorithms:\n  - {detector: hog" +
                             algorithm + "}\nsinks:\n  jsonl: " + out_file.string() +
                             "\n  db: " + (dir / "s.db").string() + "\n",
                         &out),
              0)
        << out;
    std::multiset<std::pair<int64_t, float>> kept;  // (frame, score)
    for (const auto& r : test::read_jsonl(out_file))
      for (const auto& d : r["detections"]) kept.insert({r["frame"].get<int64_t>(), d["score"].get<float>()});
    return kept;
  };
  auto all = run("");
  ASSERT_GE(all.size(), 4u) << "hog finds several people in vtest's first two frames";
  std::vector<float> scores;
  for (const auto& [frame, score] : all) scores.push_back(score);
  std::sort(scores.begin(), scores.end());
  // A threshold halfway between two different scores near the middle: some kept, some dropped.
  size_t split = scores.size() / 2;
  while (split + 1 < scores.size() && !(scores[split - 1] + 1e-3f < scores[split])) ++split;
  const float threshold = (scores[split - 1] + scores[split]) / 2;
  ASSERT_LT(scores[split - 1] + 1e-4f, threshold) << "no two different scores to put a threshold between";
  std::multiset<std::pair<int64_t, float>> expected;
  for (const auto& d : all)
    if (d.second >= threshold) expected.insert(d);

  EXPECT_EQ(run(", min_score: " + std::to_string(threshold)), expected);

  CameraProfile profile;
  profile.model = "hog";
  profile.thresholds = {{"person", threshold}};
  save_camera_profile(profile, (dir / "profile.json").string());
  EXPECT_EQ(run(", profile: " + (dir / "profile.json").string()), expected);
}

// decode_threads is handed to FFmpeg, whose frame threads show in the process's thread count
// (process_threads on /metrics) while the stream is decoding. The video is MPEG-4 part 2, which FFmpeg
// decodes with frame threads (vtest.avi's MS-MPEG4 v3 decodes on one thread whatever is asked).
TEST(ConfigPromises, DecodeThreadsStartThatManyDecoderThreads) {
  test::TempDir dir;
  const auto video = dir / "testsrc.mp4";
  std::string made;
  ASSERT_EQ(test::run_command({"ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
                               "-frames:v", "30", "-c:v", "mpeg4", "-y", video.string()},
                              &made, 60),
            0)
      << made;
  auto threads_with = [&](int decode_threads) {
    const auto path = dir / ("config" + std::to_string(decode_threads) + ".yaml");
    std::ofstream(path) << "mode: realtime\nstreams:\n  - {name: vtest, source: " << video.string()
                        << ", loop: true, decode_threads: " << decode_threads
                        << "}\nalgorithms:\n  - {detector: none}\nsinks:\n  jsonl: "
                        << (dir / "r.jsonl").string() << "\n  db: " << (dir / "s.db").string() << "\n";
    test::WebProcess web({"run", "--config", path.string(), "--no-progress"}, "--serve", dir,
                         "threads" + std::to_string(decode_threads));
    EXPECT_FALSE(web.wait_for("/api/streams/vtest",
                              [](const std::string& b) {
                                auto j = nlohmann::json::parse(b, nullptr, false);
                                return j.is_object() && j.value("frames_read", 0) >= 5;
                              })
                     .empty());
    auto text = web.client().Get("/metrics")->body;
    auto at = text.find("\nprocess_threads ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + 17));
  };
  const double one = threads_with(1), six = threads_with(6);
  ASSERT_GT(one, 0);
  EXPECT_GE(six - one, 5) << one << " threads with 1 decoder thread, " << six << " with 6";
}

// Retention is applied by the store sink when the run starts: a result captured 40 days ago goes (raw: 1
// day), so do its 1 s and 1 min buckets (1 day, 30 days); its 1 h bucket stays (400 days).
TEST(ConfigPromises, TheStoreSinkAppliesItsRetention) {
  test::TempDir dir;
  const std::string db = (dir / "s.db").string();
  const double old_ts = std::floor((unix_now() - 40 * 86400.0) / 3600) * 3600;
  {
    Result old;
    old.stream = "vtest";
    old.algo = "none";
    old.frame = 1000;
    old.pts = 100;
    old.ts = old.capture_ts = old_ts;
    open_store(db)->write({old});
  }
  std::string out;
  ASSERT_EQ(run_config(dir,
                       "max_frames: 3\nstreams:\n" + vtest_stream() +
                           "algorithms:\n  - {detector: none}\nsinks:\n  jsonl: " +
                           (dir / "r.jsonl").string() + "\n  db: " + db + "\n  retention: {raw: 86400}\n",
                       &out),
            0)
      << out;
  auto store = open_store(db);
  auto ask = [&](const std::string& sql) { return store->query(sql).rows.at(0).at(0); };
  EXPECT_EQ(ask("SELECT count(*) FROM results"), 3);
  EXPECT_EQ(ask("SELECT min(frame) FROM results"), 0);
  const std::string old_bucket =
      " AND clock = 'wall' AND label = '*' AND bucket <= " + std::to_string(old_ts);
  EXPECT_EQ(ask("SELECT count(*) FROM rollups WHERE level = '1s'" + old_bucket), 0);
  EXPECT_EQ(ask("SELECT count(*) FROM rollups WHERE level = '1m'" + old_bucket), 0);
  EXPECT_EQ(ask("SELECT count(*) FROM rollups WHERE level = '1h'" + old_bucket), 1);
}

// STORE.md: opening an older database migrates it. A file as schema version 1 wrote it (its tables typed
// here by hand, with one result, its detection and its roll-up), opened by a run: it reads version 4, keeps
// what it had (the roll-up on the wall clock), and takes the run's results.
TEST(StorePromises, AVersion1FileIsMigratedWhenARunOpensIt) {
  test::TempDir dir;
  const std::string db = (dir / "v1.db").string();
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  const char* v1 =
      "CREATE TABLE streams(name TEXT PRIMARY KEY, first_ts REAL, last_ts REAL);"
      "CREATE TABLE frames(stream TEXT NOT NULL, seq INTEGER NOT NULL, pts REAL, ts REAL, width INTEGER,"
      " height INTEGER, archive_path TEXT, archive_bytes INTEGER, PRIMARY KEY(stream, seq));"
      "CREATE TABLE results(stream TEXT NOT NULL, algo TEXT NOT NULL, frame INTEGER NOT NULL, pts REAL,"
      " ts REAL NOT NULL, count INTEGER NOT NULL, json TEXT NOT NULL, UNIQUE(stream, algo, frame));"
      "CREATE TABLE detections(stream TEXT NOT NULL, algo TEXT NOT NULL, frame INTEGER NOT NULL,"
      " label TEXT NOT NULL, score REAL, x REAL, y REAL, w REAL, h REAL);"
      "CREATE TABLE rollups(stream TEXT NOT NULL, algo TEXT NOT NULL, label TEXT NOT NULL, level TEXT NOT "
      "NULL,"
      " bucket REAL NOT NULL, samples INTEGER NOT NULL, sum INTEGER NOT NULL, min INTEGER NOT NULL,"
      " max INTEGER NOT NULL, PRIMARY KEY(stream, algo, label, level, bucket));"
      "CREATE VIEW counts AS SELECT r.stream, r.algo, r.label, r.level, r.bucket, t.samples,"
      " CAST(r.sum AS REAL) / t.samples AS avg, CASE WHEN r.samples < t.samples THEN 0 ELSE r.min END AS min,"
      " r.max, r.sum FROM rollups r JOIN rollups t ON t.stream = r.stream AND t.algo = r.algo"
      " AND t.level = r.level AND t.bucket = r.bucket AND t.label = '*';"
      "INSERT INTO results VALUES('old', 'hog', 7, 0.7, 1700000000.5, 1, '{}');"
      "INSERT INTO detections VALUES('old', 'hog', 7, 'person', 0.9, 1, 2, 3, 4);"
      "INSERT INTO rollups VALUES('old', 'hog', '*', '1h', 1699999200, 1, 1, 1, 1);"
      "PRAGMA user_version = 1;";
  ASSERT_EQ(sqlite3_exec(handle, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(handle);
  sqlite3_close(handle);

  std::string out;
  ASSERT_EQ(
      run_config(dir,
                 "max_frames: 2\nstreams:\n" + vtest_stream() +
                     "algorithms:\n  - {detector: none}\nsinks:\n  jsonl: " + (dir / "r.jsonl").string() +
                     "\n  db: {path: " + db + ", retention: {raw: 0, 1s: 0, 1m: 0, 1h: 0}}\n",
                 &out),
      0)
      << out;
  auto store = open_store(db);
  auto ask = [&](const std::string& sql) { return store->query(sql).rows.at(0).at(0); };
  EXPECT_EQ(ask("PRAGMA user_version"), 4);
  EXPECT_EQ(ask("SELECT count(*) FROM results WHERE stream = 'old'"), 1);
  EXPECT_EQ(ask("SELECT count(*) FROM results WHERE stream = 'vtest'"), 2);
  EXPECT_EQ(ask("SELECT count(*) FROM detections WHERE track_id IS NULL AND stream = 'old'"), 1);
  EXPECT_EQ(ask("SELECT clock FROM rollups WHERE stream = 'old' AND level = '1h' AND bucket = 1699999200"),
            "wall");
  EXPECT_EQ(ask("SELECT count(*) FROM events"), 0);
  EXPECT_EQ(ask("SELECT count(*) FROM line_rollups"), 0);
}

}  // namespace
}  // namespace sf
