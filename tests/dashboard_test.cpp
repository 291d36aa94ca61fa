// The dashboard in a real browser: `sightflow run --serve` on vtest.avi, Debian's chromium driven by
// playwright-core (tests/web). The page must show decoded video frames and a count chart with points for
// the run's stream, and for streams started from the dashboard's form and from the API; the pages are kept
// as screenshots in the build's test-artifacts folder.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_support.hpp"
#include "web_process.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

const fs::path kWebTests = fs::path(SIGHTFLOW_SOURCE_DIR) / "tests/web";
const fs::path kArtifacts = SIGHTFLOW_TEST_ARTIFACTS_DIR;
const char* kToken = "dashboard-test-token";
// The browser scripts' bound on each wait (their default is 60 s): HOG shares two cores with the build.
const char* kBrowserTimeout = "DASHBOARD_TIMEOUT_S=120";

// The browser tests need node and playwright-core; without them they fail (never skip) and say how to
// get them.
void require_browser_tools() {
  ASSERT_TRUE(fs::exists(kWebTests / "node_modules/playwright-core"))
      << "tests/web/node_modules is missing: run scripts/install-deps.sh (it runs npm ci in tests/web)";
  std::string version;
  ASSERT_EQ(test::run_command({"node", "--version"}, &version, 30), 0)
      << "node is needed by the dashboard tests: run scripts/install-deps.sh\n"
      << version;
}

class Dashboard : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(kArtifacts);
    std::vector<std::string> args{"run",
                                  "--source",
                                  test::vtest_path(),
                                  "--detector",
                                  "hog",
                                  "--loop",
                                  "--mode",
                                  "realtime",
                                  "--no-progress",
                                  "--token",
                                  kToken,
                                  "--allow-source-dir",
                                  fs::path(test::vtest_path()).parent_path().string()};
    auto more = extra_run_flags();
    args.insert(args.end(), more.begin(), more.end());
    web = std::make_unique<test::WebProcess>(args, "--serve", dir);
    client = std::make_unique<httplib::Client>(web->client());
  }
  virtual std::vector<std::string> extra_run_flags() const { return {}; }

  std::string url() const { return web->url() + "/"; }

  // Runs a script of tests/web with node; answers its JSON line, after asserting that it succeeded.
  nlohmann::json browser(const std::string& script, std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", kBrowserTimeout, "node", (kWebTests / script).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string output;
    int rc = test::run_command(argv, &output, 600);
    EXPECT_EQ(rc, 0) << script << ": " << output << "\nserver log:\n" << web->log();
    auto line = test::last_json_line(output);
    EXPECT_TRUE(line.is_object()) << output;
    return line.is_object() ? line : nlohmann::json::object();
  }

  nlohmann::json get_json(const std::string& path) {
    auto res = client->Get(path);
    if (!res) return nullptr;
    return nlohmann::json::parse(res->body, nullptr, false);
  }

  static void expect_png(const fs::path& path) {
    ASSERT_TRUE(fs::exists(path)) << path;
    EXPECT_EQ(test::read_file(path).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
  }

  test::TempDir dir;
  std::unique_ptr<test::WebProcess> web;
  std::unique_ptr<httplib::Client> client;
};

// Plain HTTP, no browser: the page and its files come from the binary with their types.
TEST_F(Dashboard, TheServerAnswersThePageAndItsFiles) {
  auto page = client->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("/assets/dashboard.js"), std::string::npos) << page->body;
  for (auto [path, type] : {std::pair{"/assets/dashboard.js", "text/javascript; charset=utf-8"},
                            std::pair{"/assets/dashboard.css", "text/css; charset=utf-8"}}) {
    auto res = client->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), type) << path;
    EXPECT_FALSE(res->body.empty()) << path;
  }
  auto missing = client->Get("/assets/missing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body, nullptr, false)["type"], "NotFound") << missing->body;
}

TEST_F(Dashboard, ShowsTheRunsStreamWithLiveVideoCountChartAndStageLatencies) {
  require_browser_tools();
  if (HasFatalFailure()) return;
  auto screenshot = kArtifacts / "dashboard.png";
  fs::remove(screenshot);
  auto seen = browser("dashboard_check.mjs", {url(), screenshot.string(), "vtest"});
  EXPECT_EQ(seen["streams"], nlohmann::json::array({"vtest"})) << seen;
  EXPECT_EQ(seen["stream"], "vtest");
  EXPECT_EQ(seen["state"], "running");
  EXPECT_EQ(seen["video_width"], 768) << "the MJPEG frames are vtest.avi's size";
  EXPECT_EQ(seen["video_height"], 576);
  EXPECT_GT(seen.value("chart_points", 0), 1);
  EXPECT_EQ(seen["latency_stages"], nlohmann::json::array({"read", "resize", "model", "post", "sink"}));
  expect_png(screenshot);
}

// The control path through the page: the "Start stream" form (with the token), frames and
// counts for the new stream, then its Stop button.
TEST_F(Dashboard, AStreamStartedFromTheFormShowsFramesAndCountsAndStopsFromItsButton) {
  require_browser_tools();
  if (HasFatalFailure()) return;
  auto screenshot = kArtifacts / "dashboard-control.png";
  fs::remove(screenshot);
  auto seen = browser("dashboard_control.mjs", {url(), screenshot.string(), "--token", kToken, "--name",
                                                "lobby", "--source", test::vtest_path(), "--detector", "hog",
                                                "--frame-step", "2", "--mode", "realtime", "--loop"});
  EXPECT_EQ(seen["started"], "lobby") << seen;
  EXPECT_EQ(seen["video_width"], 768);
  EXPECT_GT(seen.value("chart_points", 0), 1);
  EXPECT_EQ(seen["state_after_stop"], "stopped");
  expect_png(screenshot);

  // The server agrees: the stream ran the detector and is stopped.
  auto stream = get_json("/api/streams/lobby");
  ASSERT_TRUE(stream.is_object()) << stream;
  EXPECT_EQ(stream["state"], "stopped");
  ASSERT_EQ(stream["algorithms"].size(), 1u) << stream;
  EXPECT_GT(stream["algorithms"][0]["runs"].get<int64_t>(), 0) << stream;
}

// A stream started with a POST produces results, and the dashboard shows it beside the run's own.
TEST_F(Dashboard, AStreamStartedThroughTheApiProducesResultsAndAppearsInTheDashboard) {
  require_browser_tools();
  if (HasFatalFailure()) return;
  nlohmann::json request = {{"name", "api-cam"}, {"source", test::vtest_path()}, {"detector", "hog"},
                            {"frame_step", 2},   {"mode", "realtime"},           {"loop", true}};
  auto unauthorized = client->Post("/api/streams", request.dump(), "application/json");
  ASSERT_TRUE(unauthorized);
  EXPECT_EQ(unauthorized->status, 401) << unauthorized->body;

  httplib::Headers auth = {{"Authorization", std::string("Bearer ") + kToken}};
  auto created = client->Post("/api/streams", auth, request.dump(), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(nlohmann::json::parse(created->body)["name"], "api-cam");

  // Results: the newest result of the stream's detector (bounded; a failure says what the API answered).
  nlohmann::json latest;
  for (int i = 0; i < 1200; ++i) {
    latest = get_json("/api/streams/api-cam/latest");
    if (latest.is_object() && latest.contains("results") && !latest["results"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(latest.is_object() && !latest["results"].empty()) << latest;
  const auto& result = latest["results"][0];
  EXPECT_EQ(result["stream"], "api-cam");
  EXPECT_EQ(result["algo"], "hog");
  ASSERT_TRUE(result["detections"].is_array()) << result;
  EXPECT_EQ(result["count"], result["detections"].size()) << result;

  auto screenshot = kArtifacts / "dashboard-api.png";
  fs::remove(screenshot);
  auto seen = browser("dashboard_check.mjs", {url(), screenshot.string(), "api-cam"});
  auto streams = seen.value("streams", std::vector<std::string>{});
  std::sort(streams.begin(), streams.end());
  EXPECT_EQ(streams, (std::vector<std::string>{"api-cam", "vtest"})) << seen;
  EXPECT_EQ(seen["stream"], "api-cam");
  EXPECT_EQ(seen["video_width"], 768);
  EXPECT_GT(seen.value("chart_points", 0), 1);
  expect_png(screenshot);

  auto stopped = client->Delete("/api/streams/api-cam", auth);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->status, 200) << stopped->body;
  EXPECT_EQ(nlohmann::json::parse(stopped->body)["state"], "stopping");
  // The run in flight finishes, then the stream reads stopped (bounded wait).
  std::string state;
  for (int i = 0; i < 1200 && state != "stopped"; ++i) {  // two minutes: HOG shares two cores with the build
    if (auto res = client->Get("/api/streams/api-cam"); res && res->status == 200)
      state = nlohmann::json::parse(res->body).value("state", "");
    if (state != "stopped") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(state, "stopped");
}

// The run tracks people and counts a line across the walkway and a zone over the whole floor, with no
// store: the events and crossings come from the server's memory.
class CountingDashboard : public Dashboard {
 protected:
  std::vector<std::string> extra_run_flags() const override {
    return {"--track", "--line", "door=0,300,768,300", "--zone", "floor=0,0,768,0,768,576,0,576"};
  }
};

TEST_F(CountingDashboard, ListsEventsWithThumbnailsAndChartsCrossings) {
  require_browser_tools();
  if (HasFatalFailure()) return;
  auto screenshot = kArtifacts / "dashboard-events.png";
  fs::remove(screenshot);
  auto seen = browser("dashboard_events.mjs", {url(), screenshot.string(), "vtest"});
  EXPECT_EQ(seen["stream"], "vtest") << seen;
  EXPECT_EQ(seen["video_width"], 768);
  ASSERT_TRUE(seen["events"].is_array()) << seen;
  EXPECT_GE(seen["events"].size(), 1u) << seen;
  for (const auto& type : seen["events"])
    EXPECT_TRUE(type == "enter" || type == "exit" || type == "line") << seen;
  EXPECT_GE(seen.value("event_thumbnails", 0), 1);
  EXPECT_GT(seen.value("crossing_points", 0), 1);
  expect_png(screenshot);

  // The page shows what the API answers: events kept in memory, a thumbnail per event.
  auto events = get_json("/api/events?stream=vtest");
  ASSERT_TRUE(events.is_object()) << events;
  EXPECT_EQ(events["source"], "memory");
  ASSERT_FALSE(events["events"].empty());
  EXPECT_TRUE(events["events"][0].contains("thumbnail")) << events;
}

}  // namespace
}  // namespace sf
