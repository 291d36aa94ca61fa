// The stage slot: a stage that exists only in this test, registered once, reached from YAML, the HTTP
// API's JSON, the flags' form and the bus worker, and seen by the JSON Lines, the events file and the store.
#include "sightflow/stage.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include <set>
#include <sstream>

#include "bus/frame_message.hpp"
#include "bus/frame_processor.hpp"
#include "http/http_json.hpp"
#include "sightflow/config.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"
#include "web/stream_controller.hpp"

namespace sf {
namespace {

// Gives each result one box with an identity and counts the results it saw (state across runs).
class TagStage : public Stage {
 public:
  explicit TagStage(int every) : every_(every) {}
  void process(Result& result, const Frame& frame) override {
    ++seen_;
    Detection d;
    d.label = "tag";
    d.score = 1;
    d.box = {1, 2, 3, 4};
    d.track_id = 100 + seen_;
    result.detections.push_back(d);
    result.analytics["tag"] = {{"seen", seen_}, {"width", frame.image.cols}};
    if (seen_ % every_ == 0) result.events.push_back({"tagged", "every", d.track_id, "tag", "", 0.5});
  }

 private:
  int every_;
  int64_t seen_ = 0;
};

void register_tag_stage() {
  register_stage("test-tag", [](const nlohmann::json& options) -> std::unique_ptr<Stage> {
    for (const auto& [key, value] : options.items())
      if (key != "every") throw std::invalid_argument("unknown option '" + key + "'");
    int every = options.value("every", 1);
    if (every < 1) throw std::invalid_argument("every must be at least 1");
    return std::make_unique<TagStage>(every);
  });
}

TEST(Stages, ATestStageFromYamlReachesJsonLinesEventsAndTheStore) {
  register_tag_stage();
  test::TempDir dir;
  auto config = parse_run_config(
      "max_frames: 6\n"
      "streams: [{source: " +
      test::vtest_path() +
      "}]\n"
      "algorithms:\n"
      "  - detector: none\n"
      "    stages: [{type: test-tag, every: 2}]\n"
      "sinks: {jsonl: " +
      (dir / "r.jsonl").string() + ", events: " + (dir / "e.jsonl").string() +
      ", db: " + (dir / "s.db").string() + "}\n");
  ASSERT_EQ(config.algorithms[0].stages.size(), 1u);
  Pipeline pipeline(pipeline_options(config));
  populate(pipeline, config);
  pipeline.run();

  auto results = test::read_jsonl(dir / "r.jsonl");
  ASSERT_EQ(results.size(), 6u);
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i]["tag"]["seen"], int(i) + 1);  // one instance per stream keeps its count
    EXPECT_EQ(results[i]["tag"]["width"], 768);
    EXPECT_EQ(results[i]["detections"][0]["track_id"], 101 + int(i));
    EXPECT_EQ(results[i].contains("events"), i % 2 == 1);
  }
  auto events = test::read_jsonl(dir / "e.jsonl");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "tagged");
  EXPECT_EQ(events[0]["track_id"], 102);
  EXPECT_EQ(events[0]["frame"], 1);
  EXPECT_EQ(events[0]["dwell"], 0.5);

  auto store = open_store((dir / "s.db").string());
  auto rows = store->query("SELECT frame, track_id, type, dwell FROM events ORDER BY frame");
  ASSERT_EQ(rows.rows.size(), 3u);
  EXPECT_EQ(rows.rows[2][0], 5);
  EXPECT_EQ(rows.rows[2][1], 106);
  EXPECT_EQ(rows.rows[2][2], "tagged");
  auto ids = store->query("SELECT track_id FROM detections ORDER BY frame");
  ASSERT_EQ(ids.rows.size(), 6u);
  EXPECT_EQ(ids.rows[0][0], 101);
}

TEST(Stages, TheApiJsonAndTheFlagFormReachTheSameStage) {
  register_tag_stage();
  auto request = parse_stream_request(nlohmann::json::parse(
      R"({"source": "a.mp4", "detector": "none", "stages": [{"type": "test-tag", "every": 3}]})"));
  ASSERT_EQ(request.algorithm.stages.size(), 1u);
  EXPECT_EQ(request.algorithm.stages[0].type, "test-tag");
  EXPECT_EQ(request.algorithm.stages[0].options["every"], 3);
  EXPECT_EQ(build_stages(request.algorithm).size(), 1u);
  // A bad option is a 400 naming it, from the same reader as YAML.
  try {
    parse_stream_request(
        nlohmann::json::parse(R"({"source": "a.mp4", "stages": [{"type": "test-tag", "evry": 3}]})"));
    ADD_FAILURE() << "accepted a bad stage option";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("evry"), std::string::npos) << e.what();
  }
  // Nor may a request make the server open a file of its choosing.
  EXPECT_THROW(
      parse_stream_request(nlohmann::json::parse(R"({"source": "a.mp4", "profile": "/etc/shadow"})")),
      HttpError);
  EXPECT_THROW(parse_stream_request(nlohmann::json::parse(
                   R"({"source": "a.mp4", "stages": [{"type": "profile", "file": "/etc/shadow"}]})")),
               HttpError);
  auto spec = parse_stage_flag(R"(test-tag:{"every": 2})");
  EXPECT_EQ(spec.type, "test-tag");
  EXPECT_EQ(spec.options["every"], 2);
  EXPECT_THROW(parse_stage_flag("test-tag:{every"), std::invalid_argument);
  EXPECT_THROW(create_stage({"no-such-stage", {}}), std::invalid_argument);
  // Lines or zones without a tracker get one first.
  auto specs =
      analysis_stages(nullptr, nlohmann::json::array({{{"name", "door"}, {"points", {0, 0, 10, 0}}}}),
                      nlohmann::json::array(), {spec});
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].type, "track");
  EXPECT_EQ(specs[1].type, "lines");
  EXPECT_EQ(specs[2].type, "test-tag");
}

TEST(Stages, TheBusWorkerRunsTheStagesInItsResultMessages) {
  register_tag_stage();
  StageList stages;
  stages.push_back(create_stage({"test-tag", {{"every", 1}}}));
  FrameProcessor processor(std::make_unique<NoopAlgorithm>(), nullptr, {"cam", "tagged"}, nullptr,
                           std::move(stages));
  Frame frame;
  frame.stream = "cam";
  frame.seq = 3;
  frame.pts = 0.3;
  frame.wall_ts = unix_now();
  frame.image = cv::Mat(48, 64, CV_8UC3, cv::Scalar(40, 90, 160));
  StreamEntry entry;
  entry.id = "1-0";
  entry.fields = encode_frame_message(frame, {}).fields;
  auto batch = processor.process({entry});
  ASSERT_EQ(batch.commands.size(), 1u);
  const auto& command = batch.commands[0];
  ASSERT_EQ(command.back().front(), '{');
  auto json = nlohmann::json::parse(command.back());
  EXPECT_EQ(json["tag"]["seen"], 1);
  EXPECT_EQ(json["tag"]["width"], 64);
  EXPECT_EQ(json["events"][0]["track_id"], 101);
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// The flags end to end: the built-in tracker and a line across the walkway, through the shipped binary.
TEST(Stages, RunFlagsTrackCountAndWriteEventsAndMotText) {
  test::TempDir dir;
  std::string output;
  int rc = test::run_command({test::sightflow_bin(),
                              "run",
                              "--source",
                              test::vtest_path(),
                              "--detector",
                              "hog",
                              "--max-frames",
                              "40",
                              "--track",
                              "--track-param",
                              "max_gap=1.5",
                              "--line",
                              "walkway=0,300,768,300",
                              "--zone",
                              "all=0,0,768,0,768,576,0,576",
                              "--out",
                              (dir / "r.jsonl").string(),
                              "--events-out",
                              (dir / "e.jsonl").string(),
                              "--mot-out",
                              (dir / "t.txt").string(),
                              "--no-progress"},
                             &output);
  ASSERT_EQ(rc, 0) << output;
  auto results = test::read_jsonl(dir / "r.jsonl");
  ASSERT_EQ(results.size(), 40u);
  int tracked = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.contains("lines")) << r.dump();
    EXPECT_TRUE(r["lines"].contains("walkway"));
    ASSERT_TRUE(r.contains("zones")) << r.dump();
    for (const auto& d : r["detections"]) tracked += d.contains("track_id");
  }
  EXPECT_GT(tracked, 40);  // HOG finds several people a frame on vtest
  // Every track id in the MOT file appears in the JSON Lines, frames 1-based.
  auto mot = test::read_file(dir / "t.txt");
  std::stringstream lines(mot);
  int rows = 0;
  for (std::string line; std::getline(lines, line); ++rows) {
    int frame = 0;
    long long id = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d,%lld,", &frame, &id), 2) << line;
    EXPECT_GE(frame, 1);
    EXPECT_LE(frame, 40);
    bool found = false;
    for (const auto& d : results[size_t(frame - 1)]["detections"]) found |= d.value("track_id", -1LL) == id;
    EXPECT_TRUE(found) << line;
  }
  EXPECT_EQ(rows, tracked);
  // The whole frame is one zone: each tracked person enters it once.
  auto events = test::read_jsonl(dir / "e.jsonl");
  ASSERT_FALSE(events.empty());
  std::set<long long> entered;
  for (const auto& e : events) {
    if (e["type"] == "enter") {
      EXPECT_TRUE(entered.insert(e["track_id"].get<long long>()).second) << e.dump();
    }
  }
  EXPECT_FALSE(entered.empty());
}

// The annotated video draws the lines from the geometry the stage publishes: along the line's row the
// video differs from the source frame far more than along a row where nothing is drawn.
TEST(Stages, TheAnnotatedVideoShowsTheCountingLines) {
  test::TempDir dir;
  std::string output;
  auto video = (dir / "annotated.mp4").string();
  ASSERT_EQ(test::run_command({test::sightflow_bin(), "run", "--source", test::vtest_path(), "--detector",
                               "hog", "--max-frames", "3", "--track", "--line", "walkway=0,500,768,500",
                               "--out", (dir / "r.jsonl").string(), "--video-out", video, "--no-progress"},
                              &output),
            0)
      << output;
  cv::VideoCapture annotated(video), source(test::vtest_path());
  cv::Mat drawn, plain;
  ASSERT_TRUE(annotated.read(drawn)) << video;
  ASSERT_TRUE(source.read(plain));
  ASSERT_EQ(drawn.size(), plain.size());
  auto row_difference = [&](int y) {
    cv::Mat diff;
    cv::absdiff(drawn.row(y).colRange(300, 760), plain.row(y).colRange(300, 760), diff);
    auto sum = cv::sum(diff);
    return (sum[0] + sum[1] + sum[2]) / 460.0;  // per pixel, all channels
  };
  EXPECT_GT(row_difference(500), 60.0) << "the line is drawn at y = 500";
  EXPECT_LT(row_difference(540), 25.0) << "compression alone changes little";
}

}  // namespace
}  // namespace sf
