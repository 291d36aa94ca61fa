#include <gtest/gtest.h>

#include "sightflow/config.hpp"
#include "sink/video_sink_options.hpp"
#include "store/store_sink_options.hpp"

using namespace sf;

namespace {
// Expects parse_run_config to fail with a message containing every fragment.
void expect_config_error(const std::string& yaml, std::vector<std::string> fragments) {
  try {
    parse_run_config(yaml, "test.yaml");
    ADD_FAILURE() << "no error for:\n" << yaml;
  } catch (const ConfigError& e) {
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(RunConfig, ParsesAFullConfig) {
  auto c = parse_run_config(R"(
mode: realtime
max_frames: 50
streams:
  - name: cam1
    source: /videos/a.mp4
    fps: 5
    start: 2.5
    loop: true
    width: 640
  - source: rtsp://10.0.0.2/live
    name: door
algorithms:
  - name: people
    detector: hog
    params: {upscale: 1.75, hit_threshold: 0.2}
    classes: [person]
    frame_step: 2
    interval: 0.5
    streams: [cam1]
  - detector: haar-face
    frame_count: 3
sinks:
  jsonl: out/r.jsonl
  video: out/a.mp4
)");
  EXPECT_EQ(c.mode, Mode::Realtime);
  EXPECT_EQ(c.max_frames, 50);
  ASSERT_EQ(c.streams.size(), 2u);
  EXPECT_EQ(c.streams[0].options.name, "cam1");
  EXPECT_DOUBLE_EQ(c.streams[0].options.target_fps, 5);
  EXPECT_DOUBLE_EQ(c.streams[0].options.start, 2.5);
  EXPECT_TRUE(c.streams[0].options.loop);
  EXPECT_EQ(c.streams[0].options.width, 640);
  ASSERT_EQ(c.algorithms.size(), 2u);
  EXPECT_EQ(c.algorithms[0].params.at("upscale"), "1.75");
  EXPECT_EQ(c.algorithms[0].schedule.frame_step, 2);
  EXPECT_DOUBLE_EQ(c.algorithms[0].schedule.interval, 0.5);
  EXPECT_EQ(c.algorithms[0].streams, std::vector<std::string>{"cam1"});
  EXPECT_TRUE(c.algorithms[0].classes.count("person"));
  EXPECT_EQ(c.algorithms[1].name, "haar-face-1");
  EXPECT_EQ(c.algorithms[1].schedule.frame_count, 3);
  ASSERT_NE(c.sinks.find("jsonl"), nullptr);
  EXPECT_EQ(c.sinks.find("jsonl")->options, "out/r.jsonl");
}

TEST(RunConfig, BadConfigsSayWhereAndWhat) {
  expect_config_error("streams: [\n", {"test.yaml", "not valid YAML"});
  expect_config_error("algorithms: [{detector: hog}]\n", {"streams"});
  expect_config_error("streams: [{source: a.mp4}]\n", {"algorithms"});
  expect_config_error("streams: [{source: a.mp4, fsp: 5}]\nalgorithms: [{detector: hog}]\n",
                      {"test.yaml:1", "streams[0].fsp", "unknown key"});
  expect_config_error("streams:\n  - source: a.mp4\n    fps: fast\nalgorithms: [{detector: hog}]\n",
                      {"test.yaml:3", "streams[0].fps", "a number", "fast"});
  expect_config_error("streams: [{source: a.mp4}]\nalgorithms:\n  - detector: hog\n    frame_step: 0\n",
                      {"algorithms[0]", "frame_step"});
  expect_config_error("mode: turbo\nstreams: [{source: a.mp4}]\nalgorithms: [{detector: hog}]\n",
                      {"mode", "turbo"});
  expect_config_error(
      "streams: [{name: x, source: a.mp4}, {name: x, source: b.mp4}]\nalgorithms: [{detector: hog}]\n",
      {"two streams", "'x'"});
  expect_config_error("streams: [{source: a.mp4}]\nalgorithms: [{detector: hog, streams: [nope]}]\n",
                      {"unknown stream", "nope"});
  expect_config_error("streams: [{source: a.mp4}]\nalgorithms: [{detector: hog, params: [1, 2]}]\n",
                      {"params"});
  expect_config_error("max_pixels: 0\nstreams: [{source: a.mp4}]\nalgorithms: [{detector: hog}]\n",
                      {"test.yaml:1", "max_pixels", "must be positive"});
  expect_config_error("- just\n- a list\n", {"mapping"});
}

// Found by fuzz/run_config_fuzzer: yaml-cpp's own exception (no file:line) for a key that is a list, a JSON
// exception for text that is not UTF-8, and a stack overflow or an endless copy for aliases.
TEST(RunConfig, MalformedDocumentsAreConfigErrorsWithTheirLine) {
  expect_config_error(
      "streams: [{source: a.mp4}]\nalgorithms:\n  - detector: hog\n    lines: [{name: door, [10, 10]}]\n",
      {"test.yaml:4", "a key must be text", "a list"});
  expect_config_error("streams: [{source: a.mp4}]\nalgorithms:\n  - detector: hog\n    lines: &a [*a]\n",
                      {"test.yaml:", "nested deeper than 64"});
  std::string laughs =
      "streams: [{source: a.mp4}]\nalgorithms:\n  - detector: hog\n    track: {x0: &a0 [1, 1, 1, 1, 1, 1, 1, "
      "1, 1, 1]";
  for (int i = 1; i < 8; ++i) {
    laughs += ", x" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", *a" : "*a") + std::to_string(i - 1);
    laughs += "]";
  }
  expect_config_error(laughs + "}\n", {"test.yaml:", "more than 100000 values"});
  // Text that JSON output cannot hold (the sinks' options and errors are JSON): a stray byte in a value, an
  // overlong form in a key.
  expect_config_error(
      "streams: [{source: a.mp4}]\nalgorithms: [{detector: hog}]\nsinks:\n  jsonl: \"r\x93.jsonl\"\n",
      {"test.yaml:4", "not UTF-8"});
  expect_config_error("streams: [{source: a.mp4}]\nalgorithms:\n  - {detector: hog, track: {\xc0\xaf: 1}}\n",
                      {"test.yaml:3", "not UTF-8"});
  EXPECT_EQ(
      parse_run_config("streams: [{source: caf\xc3\xa9.mp4}]\nalgorithms: [{detector: hog}]\n", "t.yaml")
          .streams[0]
          .source,
      "caf\xc3\xa9.mp4");
}

TEST(RunConfig, MissingFileIsNamed) {
  try {
    load_run_config("/nonexistent/config.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/config.yaml"), std::string::npos);
  }
}

TEST(RunConfig, ReadsTheStoreRetentionAndArchive) {
  auto c = parse_run_config(R"(
streams: [{source: a.mp4}]
algorithms: [{detector: hog}]
sinks:
  db: out/results.db
  retention: {raw: 3600, 1s: 600, 1h: 0}
  archive: {dir: out/frames, keep_every: 25, annotated: true, max_age: 86400, max_mb: 2.5, quality: 80}
)");
  ASSERT_NE(c.sinks.find("db"), nullptr);
  auto store = read_store_sink_options(c.sinks.find("db")->options);  // the store sink's own reader
  EXPECT_EQ(store.location, "out/results.db");
  EXPECT_EQ(store.options.retention.raw_seconds, 3600);
  EXPECT_EQ(store.options.retention.rollup_seconds[0], 600);
  EXPECT_EQ(store.options.retention.rollup_seconds[1], RetentionPolicy{}.rollup_seconds[1]);
  EXPECT_EQ(store.options.retention.rollup_seconds[2], 0);
  EXPECT_EQ(store.options.archive_dir, "out/frames");
  EXPECT_TRUE(store.options.archive.keep_detections);
  EXPECT_EQ(store.options.archive.keep_every, 25);
  EXPECT_TRUE(store.options.archive.annotated);
  EXPECT_EQ(store.options.archive.max_age_s, 86400);
  EXPECT_EQ(store.options.archive.max_bytes, 2500000);
  EXPECT_EQ(store.options.archive.quality, 80);
}

TEST(RunConfig, StoreMistakesAreNamed) {
  const std::string head = "streams: [{source: a.mp4}]\nalgorithms: [{detector: hog}]\n";
  expect_config_error(head + "sinks: {db: r.db, retention: {raw: 10, 1d: 5}}",
                      {"sinks.retention.1d", "unknown key"});
  expect_config_error(head + "sinks: {archive: {dir: frames}}", {"frame archive needs a results store"});
  expect_config_error(head + "sinks: {db: r.db, archive: {keep_every: 3}}", {"sinks.archive.dir", "missing"});
  expect_config_error(head + "sinks: {db: r.db, archive: {dir: f, quality: 0}}", {"sinks.archive.quality"});
  expect_config_error(head + "sinks: {db: r.db, archive: {dir: f, max_mb: -1}}", {"sinks.archive.max_mb"});
}

// The archive is bounded unless told otherwise: 1000 MB by default, max_mb: 0 for no limit.
TEST(RunConfig, TheArchiveHasADefaultSizeBound) {
  auto bounded = read_store_sink_options({{"path", "r.db"}, {"archive", {{"dir", "f"}}}});
  EXPECT_EQ(bounded.options.archive.max_bytes, 1'000'000'000);
  auto unbounded = read_store_sink_options({{"path", "r.db"}, {"archive", {{"dir", "f"}, {"max_mb", 0}}}});
  EXPECT_EQ(unbounded.options.archive.max_bytes, 0);
}

TEST(RunConfig, ReadsTheVideoSegmentsAndNamesTheirMistakes) {
  const std::string head = "streams: [{source: a.mp4}]\nalgorithms: [{detector: hog}]\n";
  auto c = parse_run_config(head + "sinks:\n  video: {path: out/v.mp4, segment: 600, keep: 24}\n");
  auto video = read_video_sink_options(c.sinks.find("video")->options);
  EXPECT_EQ(video.path, "out/v.mp4");
  EXPECT_EQ(video.segment_s, 600);
  EXPECT_EQ(video.keep_segments, 24);
  auto plain =
      read_video_sink_options(parse_run_config(head + "sinks: {video: v.mkv}").sinks.find("video")->options);
  EXPECT_EQ(plain.path, "v.mkv");
  EXPECT_EQ(plain.segment_s, 0);
  expect_config_error(head + "sinks: {video: {path: v.mp4, segment: -5}}", {"sinks.video.segment"});
  expect_config_error(head + "sinks: {video: {path: v.mp4, keep: 3}}", {"sinks.video.keep", "needs segment"});
  expect_config_error(head + "sinks: {video: {path: v.mp4, segments: 3}}", {"sinks.video.segments"});
}

TEST(AlgorithmBuilder, ATrackedCatalogModelGetsItsTrackerDefaultsAndKeepsTheLowScoreBoxes) {
  // models.yaml: yolo-fastest-body has tracker defaults (low 0.4 = its own score threshold); yolox-nano
  // has none (the tracker's low 0.1 is under its threshold 0.4, so the model is asked for those boxes).
  AlgorithmConfig body;
  body.detector = "yolo-fastest-body";
  body.stages = {{"track", {{"min_hits", 3}}}};
  auto stages = effective_stages(body);
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0].options,
            (nlohmann::json{{"low", 0.4}, {"high", 0.5}, {"new_track", 0.8}, {"min_hits", 3}}));
  EXPECT_FALSE(effective_params(body).count("score_threshold"));  // low is its threshold already

  AlgorithmConfig nano;
  nano.detector = "yolox-nano";
  nano.stages = {{"track", nlohmann::json::object()}};
  EXPECT_EQ(effective_stages(nano)[0].options, nlohmann::json::object());
  ASSERT_TRUE(effective_params(nano).count("score_threshold"));
  EXPECT_FLOAT_EQ(std::stof(effective_params(nano).at("score_threshold")), 0.1f);
  nano.stages = {{"track", {{"low", 0.2}}}};
  EXPECT_FLOAT_EQ(std::stof(effective_params(nano).at("score_threshold")), 0.2f);
  nano.params["score_threshold"] = "0.3";  // the user's word stands
  EXPECT_EQ(effective_params(nano).at("score_threshold"), "0.3");
  nano.stages.clear();
  nano.params.clear();
  EXPECT_FALSE(effective_params(nano).count("score_threshold"));  // untracked: the catalog's threshold

  AlgorithmConfig hog;  // a built-in model takes no score_threshold parameter
  hog.stages = {{"track", nlohmann::json::object()}};
  EXPECT_TRUE(effective_params(hog).empty());
}
