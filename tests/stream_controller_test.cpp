// Streams started and stopped through the real HTTP API of an in-process web server: a stopped stream's
// pipeline (its threads, model and buffers) is freed once it has ended, also when the same name is started
// again while the old one is still stopping.
#include "web/stream_controller.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "http/http_json.hpp"
#include "sightflow/frame.hpp"
#include "test_support.hpp"
#include "web/web_server.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

size_t thread_count() {
  return static_cast<size_t>(
      std::distance(fs::directory_iterator("/proc/self/task"), fs::directory_iterator{}));
}

template <typename Ready>
bool wait_until(Ready ready) {
  for (int i = 0; i < 1200; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ready();
}

class ControlledStreams : public ::testing::Test {
 protected:
  void SetUp() override {
    controller_ = std::make_unique<StreamController>(live_, controller_options());
    WebOptions options;
    options.port = 0;
    options.token = "t0ken";
    web_ = std::make_unique<WebServer>(options, live_, *controller_);
    web_->start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", web_->port());
    client_->set_read_timeout(30, 0);
  }
  void TearDown() override { web_->stop(); }

  static ControllerOptions controller_options() {
    ControllerOptions options;
    options.sources.dirs = {fs::path(test::vtest_path()).parent_path().string()};
    return options;
  }

  nlohmann::json get(const std::string& path) {
    auto res = client_->Get(path.c_str());
    return res ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
  }
  std::string state(const std::string& name) { return get("/api/streams/" + name).value("state", ""); }

  int post(const std::string& name) {
    nlohmann::json request = {{"name", name},      {"source", test::vtest_path()},
                              {"detector", "hog"}, {"mode", "realtime"},
                              {"loop", true},      {"frame_step", 5}};
    auto res = client_->Post("/api/streams", token_, request.dump(), "application/json");
    return res ? res->status : -1;
  }
  int del(const std::string& name) {
    auto res = client_->Delete(("/api/streams/" + name).c_str(), token_);
    return res ? res->status : -1;
  }

  // Started, read some frames, stopped, and seen stopped.
  void cycle(const std::string& name) {
    ASSERT_EQ(post(name), 201);
    ASSERT_TRUE(wait_until([&] { return get("/api/streams/" + name).value("frames_read", 0) > 0; }))
        << get("/api/streams/" + name);
    ASSERT_EQ(del(name), 200);
    ASSERT_TRUE(wait_until([&] { return state(name) == "stopped"; })) << get("/api/streams/" + name);
  }

  LiveView live_;
  std::unique_ptr<StreamController> controller_;
  std::unique_ptr<WebServer> web_;
  std::unique_ptr<httplib::Client> client_;
  httplib::Headers token_{{"Authorization", "Bearer t0ken"}};
};

TEST_F(ControlledStreams, ManyStartStopCyclesLeaveThreadsAndHeldPipelinesBounded) {
  cycle(
      "cam");  // the first start creates what lives as long as the process (OpenCV's and the server's pools)
  if (HasFatalFailure()) return;
  EXPECT_TRUE(wait_until([&] { return controller_->held_pipelines() == 0; }))
      << controller_->held_pipelines();
  const size_t baseline = thread_count();

  for (int i = 0; i < 12; ++i) {
    cycle(i % 2 ? "cam" : "cam" + std::to_string(i));
    if (HasFatalFailure()) return;
  }
  // The same name started again while it is still stopping: the old pipeline is freed all the same.
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(post("race"), 201);
    ASSERT_EQ(del("race"), 200);
  }
  ASSERT_TRUE(wait_until([&] { return state("race") == "stopped"; })) << get("/api/streams/race");

  EXPECT_TRUE(wait_until([&] { return controller_->held_pipelines() == 0; }))
      << controller_->held_pipelines() << " pipelines still held after 17 stopped streams";
  // Each pipeline had a decode, a worker, a sink and a batcher thread; none of them is left over.
  EXPECT_TRUE(wait_until([&] { return thread_count() <= baseline + 2; }))
      << thread_count() << " threads, " << baseline << " after the first stream";
  // A stopped stream is still listed with what it did.
  auto cam = get("/api/streams/cam");
  EXPECT_EQ(cam["state"], "stopped") << cam;
  ASSERT_EQ(cam["algorithms"].size(), 1u) << cam;
  EXPECT_GT(cam["frames_read"].get<int64_t>(), 0) << cam;
}

// Issue 15 item 7: a tokened caller made the server request http://127.0.0.1:OTHERPORT/admin. Now the
// request is refused before any connection, unless the operator named loopback.
TEST_F(ControlledStreams, ALoopbackServiceIsNotReachedUnlessTheOperatorAllowsIt) {
  std::atomic<int> hits{0};
  httplib::Server admin;
  admin.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_content("secret", "text/plain");
  });
  const int port = test::free_tcp_port();
  ASSERT_TRUE(admin.bind_to_port("127.0.0.1", port));
  std::thread serving([&] { admin.listen_after_bind(); });  // bound: requests wait in the backlog

  for (const std::string host : {"127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0"}) {
    nlohmann::json request = {{"name", "ssrf"},
                              {"source", "http://" + host + ":" + std::to_string(port) + "/admin"}};
    auto res = client_->Post("/api/streams", token_, request.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << host << ": " << res->body;
    EXPECT_EQ(nlohmann::json::parse(res->body, nullptr, false)
                  .value("message", "")
                  .rfind("source not allowed: ", 0),
              0u)
        << res->body;
  }
  nlohmann::json file = {{"name", "file"}, {"source", "/etc/passwd"}};
  EXPECT_EQ(client_->Post("/api/streams", token_, file.dump(), "application/json")->status, 403);
  EXPECT_EQ(get("/api/streams/ssrf").value("code", 0), 404) << "a refused stream is not listed";
  EXPECT_EQ(hits, 0);

  // The same request where the operator allowed loopback does reach the service.
  LiveView live;
  ControllerOptions allowed;
  allowed.sources.hosts = {"127.0.0.1"};
  StreamController controller(live, allowed);
  StreamStartRequest request;
  request.name = "relay";
  request.source = "http://127.0.0.1:" + std::to_string(port) + "/admin";
  request.algorithm.detector = "none";
  try {
    controller.start(request);  // the source is opened on the stream's thread; "secret" is no video
  } catch (const HttpError&) {
  }
  EXPECT_TRUE(wait_until([&] { return hits > 0; }));
  admin.stop();
  serving.join();
}

// A detector name ending in .yaml is a file the server would read (a model entry file): only the operator
// names one, on the command line.
TEST_F(ControlledStreams, AModelEntryFileIsNotADetectorACallerMayName) {
  for (const std::string detector : {"/etc/sightflow/tuned.yaml", "../models/x.yml"}) {
    nlohmann::json request = {{"name", "tuned"}, {"source", test::vtest_path()}, {"detector", detector}};
    auto res = client_->Post("/api/streams", token_, request.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << detector << ": " << res->body;
    EXPECT_EQ(nlohmann::json::parse(res->body, nullptr, false)
                  .value("message", "")
                  .rfind("detector not allowed: ", 0),
              0u)
        << res->body;
  }
  EXPECT_EQ(get("/api/streams/tuned").value("code", 0), 404) << "a refused stream is not listed";
}

// A hog result of frame 1 with one person on `image`, as a pipeline publishes it.
Result one_person(const std::string& stream, const cv::Mat& image) {
  Result r;
  r.stream = stream;
  r.algo = "hog";
  r.frame = 1;
  r.ts = r.capture_ts = unix_now();
  r.detections.push_back({"person", 0, 0.9f, cv::Rect2f(1, 1, 10, 20), {}});
  r.image = image;
  return r;
}

// What an ended stream leaves in the live view goes when the controller forgets the stream, except the
// view a viewer still holds, of which only the frame goes.
TEST(LiveViewForget, DropsTheStreamsFrameHistoryAndResultsButKeepsAWatchedView) {
  LiveView live;
  cv::Mat image(48, 64, CV_8UC3, cv::Scalar(0, 128, 255));
  for (const std::string stream : {"gone", "watched"}) live.publish_result(one_person(stream, image));
  live.viewer_joined("watched");
  ASSERT_TRUE(live.has_stream("gone"));
  ASSERT_EQ(live.history().algorithms("gone").size(), 1u);

  live.forget("gone");
  live.forget("watched");
  EXPECT_FALSE(live.has_stream("gone"));
  EXPECT_TRUE(live.history().algorithms("gone").empty());
  EXPECT_EQ(live.latest_count("gone", "hog"), -1);
  EXPECT_TRUE(live.has_stream("watched"));
  EXPECT_FALSE(live.next_frame("watched", 0, 0.01)) << "its frame is gone";
  EXPECT_EQ(live.viewers("watched"), 1);
  live.viewer_left("watched");
}

// An ended stream keeps its last drawing for the dashboard, not its decoded frame: a server lists up to
// StreamController::kKeptEnded of them, and a frame each (1.3 MB at 768x576) grew the soak's heap by 45 MB.
TEST(LiveViewEnded, KeepsTheLastDrawingAndReleasesTheFrame) {
  LiveView live;
  cv::Mat image(48, 64, CV_8UC3, cv::Scalar(0, 128, 255));
  Result r = one_person("cam", image);
  live.publish_result(r);
  r.image = cv::Mat();
  ASSERT_EQ(image.u->refcount, 2) << "the view holds the frame while the stream runs";

  live.ended("cam");
  EXPECT_EQ(image.u->refcount, 1) << "the view let go of the frame";
  auto last = live.next_frame("cam", 0, 0.01);
  ASSERT_TRUE(last) << "the last drawing is still shown";
  EXPECT_EQ(last->width, 64);
  EXPECT_FALSE(last->bytes->empty());
  EXPECT_FALSE(live.next_frame("cam", last->version, 0.01)) << "and nothing newer";
  EXPECT_EQ(live.latest_count("cam", "hog"), 1);

  // A stream of the same name started again shows its own frames.
  r.frame = 2;
  r.image = cv::Mat(48, 80, CV_8UC3, cv::Scalar(0, 0, 0));
  live.publish_result(r);
  auto next = live.next_frame("cam", last->version, 1.0);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->width, 80);
}

}  // namespace
}  // namespace sf
