// The stage slot and the sink registry: a stage and a sink that exist only in this test, registered once
// each, reached from YAML, the flags' form, the HTTP API (a real web server over loopback) and the bus
// worker, and seen by the JSON Lines, the events file, the store, /api/streams, /metrics and the test
// sink itself.
#include "sightflow/stage.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "bus/frame_message.hpp"
#include "bus/frame_processor.hpp"
#include "http/http_json.hpp"
#include "sightflow/config.hpp"
#include "sightflow/sink.hpp"
#include "sightflow/sink_options.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"
#include "web/stream_controller.hpp"
#include "web/web_server.hpp"

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
  // Not even to read it: a profile stage is refused before it is built, with the same words whether the
  // file exists or not (found writing fuzz/stream_request_fuzzer: the stage loaded the file it named).
  for (const char* file : {"/nonexistent/profile.json", "/etc/hostname"}) {
    auto body = nlohmann::json::parse(R"({"source": "a.mp4", "stages": ["track", {"type": "profile"}]})");
    body["stages"][1]["file"] = file;
    try {
      parse_stream_request(body);
      ADD_FAILURE() << "accepted " << body.dump();
    } catch (const HttpError& e) {
      EXPECT_EQ(std::string(e.what()),
                "a camera profile cannot be given in a request (it names a server file)");
    }
  }
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
  test::TempDir dir;
  StageList stages;
  stages.push_back(create_stage({"test-tag", {{"every", 1}}}));
  Metrics metrics;
  FrameProcessor processor(std::make_unique<NoopAlgorithm>(), open_store((dir / "w.db").string()),
                           {"cam", "tagged"}, &metrics, std::move(stages));
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
  // The worker's store writes report themselves as the `store` part, as the store sink's do.
  EXPECT_EQ(metrics.to_json(steady_now())["store"]["results_stored"], 1);
  auto rows = open_store((dir / "w.db").string())->query("SELECT track_id FROM events");
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0][0], 101);
}

// What the test sink was given, by the name its options choose ({"into": NAME}).
struct Collected {
  std::mutex mutex;
  std::vector<Result> results;
  bool closed = false;
};

std::shared_ptr<Collected> collection(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<Collected>> all;
  std::lock_guard lock(mutex);
  auto& c = all[name];
  if (!c) c = std::make_shared<Collected>();
  return c;
}

size_t collected(const std::string& name) {
  auto c = collection(name);
  std::lock_guard lock(c->mutex);
  return c->results.size();
}

// A sink that exists only in this test: keeps every result and counts them for itself.
class CollectSink : public Sink {
 public:
  explicit CollectSink(std::shared_ptr<Collected> into) : into_(std::move(into)) {}
  void write(const Result& result) override {
    std::lock_guard lock(into_->mutex);
    into_->results.push_back(result);
    into_->results.back().image.release();
    ++written_;
  }
  void close() override {
    std::lock_guard lock(into_->mutex);
    into_->closed = true;
  }
  void report(CounterReport& out) const override {
    out.counter({"collect", "results", "sightflow_test_collected_total", "Results the test sink kept."},
                double(written_.load()));
  }

 private:
  std::shared_ptr<Collected> into_;
  std::atomic<int64_t> written_{0};
};

// {into: NAME} or just NAME, read as a program's own sink would read its options.
std::string read_collect_options(const nlohmann::json& options) {
  SinkOptionReader r(options, "into");
  r.only_keys({"into"});
  return r.required_text("into", "the collection's name");
}

void register_collect_sink() {
  register_sink(
      "test-collect",
      [](const nlohmann::json& options, const SinkContext&) -> std::shared_ptr<Sink> {
        return std::make_shared<CollectSink>(collection(read_collect_options(options)));
      },
      [](const nlohmann::json& options) { read_collect_options(options); });
}

// Polls `ready` every 50 ms for up to 60 s.
template <typename Ready>
bool wait_until(Ready ready) {
  for (int i = 0; i < 1200; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ready();
}

nlohmann::json get_json(httplib::Client& client, const std::string& path) {
  auto res = client.Get(path.c_str());
  if (!res || res->status != 200) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

// The algorithm entry of `stream` in GET /api/streams (null when absent).
nlohmann::json api_algorithm(httplib::Client& client, const std::string& stream) {
  auto streams = get_json(client, "/api/streams");
  if (!streams.is_object()) return nullptr;
  for (const auto& s : streams["streams"])
    if (s["name"] == stream && !s["algorithms"].empty()) return s["algorithms"][0];
  return nullptr;
}

TEST(Sinks, ATestStageAndATestSinkReachEveryOutputFromYamlFlagsAndTheHttpApi) {
  register_tag_stage();
  register_collect_sink();
  test::TempDir dir;
  auto db = (dir / "s.db").string();

  // YAML: the test sink is a key under sinks:, beside the built-in ones.
  auto config = parse_run_config(
      "max_frames: 6\n"
      "streams: [{name: cam, source: " +
          test::vtest_path() +
          "}]\n"
          "algorithms:\n"
          "  - detector: none\n"
          "    stages: [{type: test-tag, every: 2}]\n"
          "sinks:\n"
          "  jsonl: " +
          (dir / "r.jsonl").string() +
          "\n"
          "  test-collect: {into: yaml}\n"
          "  db: " +
          db + "\n",
      "t.yaml");
  ASSERT_EQ(config.sinks.specs.size(), 3u);
  EXPECT_EQ(config.sinks.specs[1].type, "test-collect");

  // Served as `run --serve` does: the run's pipeline adopted; API-started streams write to the test sink
  // and the store.
  LiveView live;
  ControllerOptions shared;
  shared.sinks.set("test-collect", {{"into", "api"}});
  shared.sinks.set("db", db);
  shared.sources.dirs = {std::filesystem::path(test::vtest_path()).parent_path().string()};
  StreamController controller(live, shared);
  WebOptions options;
  options.port = 0;
  options.token = "t0ken";
  options.db = db;
  WebServer web(options, live, controller);
  Pipeline pipeline(pipeline_options(config));
  populate(pipeline, config);
  pipeline.add_sink(live.make_sink());
  pipeline.start();
  controller.adopt(pipeline, {{"cam", test::vtest_path()}}, config.mode);
  web.start();
  pipeline.wait();
  controller.finished(pipeline, "");
  httplib::Client client("127.0.0.1", web.port());

  // The test sink saw every result with the stage's output, and was closed.
  {
    auto yaml = collection("yaml");
    std::lock_guard lock(yaml->mutex);
    ASSERT_EQ(yaml->results.size(), 6u);
    EXPECT_TRUE(yaml->closed);
    EXPECT_EQ(yaml->results[5].analytics["tag"]["seen"], 6);
    EXPECT_EQ(yaml->results[5].events.size(), 1u);
  }
  // The JSON Lines and the store carry it too.
  auto lines = test::read_jsonl(dir / "r.jsonl");
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[5]["tag"]["seen"], 6);
  auto events =
      open_store(db)->query("SELECT frame, track_id FROM events WHERE stream = 'cam' ORDER BY frame");
  ASSERT_EQ(events.rows.size(), 3u);
  EXPECT_EQ(events.rows[2][1], 106);
  // /api/streams shows the newest analytics and the last events.
  auto algo = api_algorithm(client, "cam");
  ASSERT_TRUE(algo.is_object()) << get_json(client, "/api/streams").dump();
  EXPECT_EQ(algo["analytics"]["tag"]["seen"], 6) << algo.dump();
  ASSERT_EQ(algo["events"].size(), 3u) << algo.dump();
  EXPECT_EQ(algo["events"][2]["track_id"], 106);
  EXPECT_EQ(algo["events"][2]["type"], "tagged");
  // The test sink's own counter reaches /metrics and /api/metrics without the engine knowing its name.
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("sightflow_test_collected_total{pipeline=\"cam\"} 6\n"), std::string::npos)
      << metrics->body;
  EXPECT_EQ(get_json(client, "/api/metrics")["cam"]["collect"]["results"], 6);

  // The HTTP API: a stream started with the test stage; its results reach the test sink, the store and
  // /api/streams.
  httplib::Headers token{{"Authorization", "Bearer t0ken"}};
  nlohmann::json request = {{"name", "api"},      {"source", test::vtest_path()},
                            {"detector", "none"}, {"mode", "realtime"},
                            {"loop", true},       {"stages", {{{"type", "test-tag"}, {"every", 1}}}}};
  auto res = client.Post("/api/streams", token, request.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  ASSERT_TRUE(wait_until([&] { return collected("api") >= 3; }));
  ASSERT_TRUE(wait_until([&] {
    auto a = api_algorithm(client, "api");
    return a.is_object() && a["analytics"].contains("tag") && !a["events"].empty();
  })) << get_json(client, "/api/streams").dump();
  ASSERT_EQ(client.Delete("/api/streams/api", token)->status, 200);
  ASSERT_TRUE(wait_until([&] {
    auto s = get_json(client, "/api/streams/api");
    return s.is_object() && s["state"] == "stopped";
  }));
  {
    auto api = collection("api");
    std::lock_guard lock(api->mutex);
    EXPECT_TRUE(api->closed);
    for (size_t i = 0; i < api->results.size(); ++i) {
      EXPECT_EQ(api->results[i].stream, "api");
      EXPECT_EQ(api->results[i].analytics["tag"]["seen"], int(i) + 1);
    }
  }
  auto stored = open_store(db)->query("SELECT COUNT(*) FROM events WHERE stream = 'api'");
  EXPECT_EQ(stored.rows[0][0], int64_t(collected("api")));
  web.stop();

  // The flags' form: what `run --stage test-tag:{...} --out FILE` puts in the description.
  RunConfig flags;
  flags.max_frames = 4;
  flags.streams.push_back({test::vtest_path(), {}});
  AlgorithmConfig a;
  a.name = a.detector = "none";
  a.stages.push_back(parse_stage_flag(R"(test-tag:{"every": 4})"));
  flags.algorithms.push_back(a);
  flags.sinks.set("jsonl", (dir / "f.jsonl").string());
  flags.sinks.set("test-collect", {{"into", "flags"}});
  validate(flags);
  Pipeline from_flags(pipeline_options(flags));
  populate(from_flags, flags);
  from_flags.run();
  auto flag_lines = test::read_jsonl(dir / "f.jsonl");
  ASSERT_EQ(flag_lines.size(), 4u);
  EXPECT_EQ(flag_lines[3]["events"][0]["track_id"], 104);
  EXPECT_EQ(collected("flags"), 4u);
}

TEST(Sinks, UnknownSinksAndBadOptionsAreNamedWithTheirLine) {
  register_collect_sink();
  const std::string head = "streams: [{source: a.mp4}]\nalgorithms: [{detector: none}]\nsinks:\n";
  auto expect_error = [&](const std::string& sinks, const std::vector<std::string>& fragments) {
    try {
      parse_run_config(head + sinks, "s.yaml");
      ADD_FAILURE() << "no error for " << sinks;
    } catch (const ConfigError& e) {
      for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
    }
  };
  // The known keys include the built-in sinks and the test's own.
  expect_error("  jsonl: r.jsonl\n  jsnl: r.jsonl\n",
               {"s.yaml:5", "sinks.jsnl", "unknown key", "jsonl", "test-collect", "webhook"});
  expect_error("  test-collect:\n    into: x\n    onto: y\n",
               {"s.yaml:6", "sinks.test-collect.onto", "unknown"});
  expect_error("  test-collect: {}\n", {"s.yaml:4", "sinks.test-collect.into", "missing"});
  expect_error("  jsonl: {path: r.jsonl, flush: true}\n", {"s.yaml:4", "sinks.jsonl.flush", "unknown key"});
  // Today's forms stay: a short form and the object form read alike.
  auto c = parse_run_config(head + "  jsonl: {path: r.jsonl}\n  video: a.mp4\n", "s.yaml");
  ASSERT_EQ(c.sinks.specs.size(), 2u);
  EXPECT_EQ(c.sinks.find("video")->options, "a.mp4");
  EXPECT_THROW(create_sink({"no-such-sink", "x"}, {}), std::invalid_argument);
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
