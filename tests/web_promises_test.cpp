// What docs/WEB.md and docs/SERVE.md promise of the web server, checked on the shipped binary over real
// HTTP: the token of the management routes (flag or $SIGHTFLOW_TOKEN), the MJPEG answer's content type,
// boundary and parts, the per-viewer fps and its cap, a stalled viewer dropped, the filters of /api/counts
// and /api/frames, /api/metrics, the states `ended` and `failed` of a `run --serve` that keeps serving, and
// the gauges sightflow_video_viewers and sightflow_latest_detections.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "media/jpeg_codec.hpp"
#include "sightflow/frame.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"
#include "web_process.hpp"

namespace sf {
namespace {

nlohmann::json get_json(const test::WebProcess& web, const std::string& path) {
  auto res = web.client().Get(path.c_str());
  if (!res) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

// The value of one series in a Prometheus page, or NaN when it is not there.
double series_value(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? std::nan("") : std::stod(text.substr(at + series.size() + 2));
}

double metric(const test::WebProcess& web, const std::string& series) {
  auto res = web.client().Get("/metrics");
  return res ? series_value(res->body, series) : std::nan("");
}

std::string stream_state(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() ? j.value("state", "") : "";
}

// A job of a few frames without a model: the run ends quickly and the server stays.
std::vector<std::string> short_run(const test::TempDir& dir, const std::string& detector, int frames,
                                   const std::string& out) {
  return {"run",           "--detector", detector, "--max-frames", std::to_string(frames),
          "--no-progress", "--out",      out,      "--db",         (dir / "store.db").string()};
}

// A run that goes on (real time, looping) so viewers always have a next frame.
std::vector<std::string> live_run(const test::TempDir& dir) {
  return {"run",
          "--detector",
          "none",
          "--mode",
          "realtime",
          "--loop",
          "--no-progress",
          "--out",
          (dir / "results.jsonl").string(),
          "--db",
          (dir / "store.db").string()};
}

TEST(WebPromises, RunServeKeepsServingAfterItsJobWithTheStreamEndedAndItsFiguresFinal) {
  test::TempDir dir;
  const auto out = dir / "results.jsonl";
  test::WebProcess web(short_run(dir, "hog", 3, out.string()), "--serve", dir);
  auto ended =
      web.wait_for("/api/streams/vtest", [](const std::string& b) { return stream_state(b) == "ended"; });
  ASSERT_FALSE(ended.empty()) << web.log();
  EXPECT_EQ(nlohmann::json::parse(ended)["error"], "");
  EXPECT_TRUE(web.process().running()) << "run --serve serves until Ctrl-C";

  // /api/metrics: Metrics::to_json per pipeline, with the store's part.
  auto metrics = get_json(web, "/api/metrics");
  ASSERT_TRUE(metrics.contains("vtest")) << metrics;
  EXPECT_EQ(metrics["vtest"]["streams"]["vtest"]["frames_read"], 3) << metrics;
  EXPECT_EQ(metrics["vtest"]["streams"]["vtest"]["algorithms"]["hog"]["runs"], 3) << metrics;
  EXPECT_EQ(metrics["vtest"]["store"]["results_stored"], 3) << metrics;

  // The newest result's detections, as the results file has them; no viewer is watching.
  auto results = test::read_jsonl(out);
  ASSERT_EQ(results.size(), 3u);
  const double newest = results.back()["count"].get<double>();
  EXPECT_GT(newest, 0) << "hog finds people in vtest's first frames";
  EXPECT_EQ(metric(web, "sightflow_latest_detections{stream=\"vtest\",algo=\"hog\"}"), newest);
  EXPECT_EQ(metric(web, "sightflow_video_viewers{stream=\"vtest\"}"), 0);
  EXPECT_TRUE(web.process().running());
}

TEST(WebPromises, ARunWhoseSinkFailsShowsTheStreamFailedWithTheErrorAndKeepsServing) {
  test::TempDir dir;
  test::WebProcess web(short_run(dir, "none", 3, "/dev/full"), "--serve", dir);
  auto failed =
      web.wait_for("/api/streams/vtest", [](const std::string& b) { return stream_state(b) == "failed"; });
  ASSERT_FALSE(failed.empty()) << web.log();
  EXPECT_NE(nlohmann::json::parse(failed)["error"].get<std::string>().find("/dev/full"), std::string::npos)
      << failed;
  EXPECT_TRUE(web.process().running());
  EXPECT_EQ(get_json(web, "/api/streams")["streams"].size(), 1u);
}

// The multipart answer, read byte for byte: each part is the boundary line, an image/jpeg type, a
// Content-Length, a blank line, that many bytes of a whole JPEG, and CRLF.
TEST(WebPromises, MjpegIsMultipartWithItsBoundaryAndWholeJpegParts) {
  test::TempDir dir;
  test::WebProcess web(live_run(dir), "--serve", dir);
  std::string body, content_type;
  auto c = web.client();
  auto res = c.Get(
      "/video/vtest",
      [&](const httplib::Response& r) {
        content_type = r.get_header_value("Content-Type");
        return true;
      },
      [&](const char* data, size_t n) {
        body.append(data, n);
        return body.size() < 300000;  // a few parts of ~80 KB
      });
  EXPECT_EQ(content_type, "multipart/x-mixed-replace; boundary=sightflowframe");
  size_t at = 0;
  int parts = 0;
  while (true) {
    const std::string head = "--sightflowframe\r\nContent-Type: image/jpeg\r\nContent-Length: ";
    if (body.size() < at + head.size()) break;
    ASSERT_EQ(body.compare(at, head.size(), head), 0) << "part " << parts << " at " << at;
    auto end_of_length = body.find("\r\n\r\n", at + head.size());
    ASSERT_NE(end_of_length, std::string::npos);
    size_t length = std::stoul(body.substr(at + head.size(), end_of_length - at - head.size()));
    size_t start = end_of_length + 4;
    if (body.size() < start + length + 2) break;  // the part the reader stopped in
    auto image = decode_jpeg(reinterpret_cast<const unsigned char*>(body.data() + start), length);
    EXPECT_EQ(image.cols, 768);
    EXPECT_EQ(image.rows, 576);
    EXPECT_EQ(body.compare(start + length, 2, "\r\n"), 0);
    at = start + length + 2;
    ++parts;
  }
  EXPECT_GE(parts, 2) << body.substr(0, 200);
}

// Frames a viewer gets while reading for at least `seconds` (its own clock, measured).
struct Viewing {
  int frames = 0;
  double seconds = 0;
};

Viewing watch(const test::WebProcess& web, const std::string& path, double seconds) {
  Viewing v;
  const std::string boundary = "--sightflowframe\r\n";
  std::string tail;
  auto start = std::chrono::steady_clock::now();
  auto c = web.client();
  c.Get(path.c_str(), [&](const char* data, size_t n) {
    tail += std::string(data, n);
    for (size_t at; (at = tail.find(boundary)) != std::string::npos; tail.erase(0, at + boundary.size()))
      ++v.frames;
    if (tail.size() > boundary.size()) tail.erase(0, tail.size() - boundary.size());
    v.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return v.seconds < seconds;
  });
  return v;
}

// The stream makes 10 results a second. A viewer asking for 1 fps gets at most one frame per second of its
// reading, and one asking for more than --video-fps (2) gets at most the cap: upper bounds, which load only
// makes easier to meet; without the limits both would see about 10 a second.
TEST(WebPromises, AViewerGetsAtMostTheFpsItAsksForAndNeverMoreThanVideoFps) {
  test::TempDir dir;
  auto args = live_run(dir);
  args.insert(args.end(), {"--video-fps", "2"});
  test::WebProcess web(args, "--serve", dir);
  auto slow = watch(web, "/video/vtest?fps=1", 3.0);
  EXPECT_GE(slow.frames, 1);
  EXPECT_LE(slow.frames, 1 + int(slow.seconds * 1)) << slow.seconds << " s";
  auto greedy = watch(web, "/video/vtest?fps=50", 3.0);
  EXPECT_GE(greedy.frames, 2);
  EXPECT_LE(greedy.frames, 1 + int(greedy.seconds * 2)) << greedy.seconds << " s";
}

// A viewer that stops reading (a socket with a tiny receive window that is never read) is dropped after the
// server's write timeout: the stream's viewers go back to 0, in /api/streams and in /metrics.
TEST(WebPromises, AViewerThatStopsReadingIsDroppedAndNoLongerCounted) {
  test::TempDir dir;
  test::WebProcess web(live_run(dir), "--serve", dir);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  int small = 1;  // the kernel rounds it up to its minimum
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(web.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = "GET /video/vtest HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), ssize_t(request.size()));

  auto viewers_are = [](int n) {
    return [n](const std::string& b) {
      auto j = nlohmann::json::parse(b, nullptr, false);
      return j.is_object() && j.value("viewers", -1) == n;
    };
  };
  EXPECT_FALSE(web.wait_for("/api/streams/vtest", viewers_are(1)).empty());
  EXPECT_EQ(metric(web, "sightflow_video_viewers{stream=\"vtest\"}"), 1);
  EXPECT_FALSE(web.wait_for("/api/streams/vtest", viewers_are(0), 90).empty())
      << "a viewer that reads nothing must be dropped";
  EXPECT_EQ(metric(web, "sightflow_video_viewers{stream=\"vtest\"}"), 0);
  close(fd);
}

// SERVE.md: the management routes need the server's token, given with --token or $SIGHTFLOW_TOKEN
// (the flag wins); 401 without it or with another.
TEST(WebPromises, ModelManagementNeedsTheTokenOfTheFlagOrOfTheEnvironment) {
  test::TempDir dir;
  httplib::Headers env_token{{"Authorization", "Bearer from-env"}},
      flag_token{{"Authorization", "Bearer from-flag"}};
  const char* reg = "/models?url=hog&model_name=people";
  {
    test::ScopedEnv env("SIGHTFLOW_TOKEN", "from-env");
    test::WebProcess web({"serve"}, "--listen", dir, "env");
    auto c = web.client();
    auto res = c.Post(reg);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << res->body;
    EXPECT_EQ(c.Post(reg, flag_token, "", "text/plain")->status, 401);
    res = c.Post(reg, env_token, "", "text/plain");
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_NE(c.Get("/models")->body.find(R"({"modelName":"people","modelUrl":"hog"})"), std::string::npos);
    EXPECT_EQ(c.Put("/models/hog?min_worker=1")->status, 401);
    EXPECT_EQ(c.Put("/models/hog?min_worker=1", env_token, "", "text/plain")->status, 200);
    EXPECT_EQ(c.Delete("/models/people")->status, 401);

    test::WebProcess flagged({"serve", "--token", "from-flag"}, "--listen", dir, "flag");
    auto f = flagged.client();
    EXPECT_EQ(f.Post(reg, env_token, "", "text/plain")->status, 401) << "--token wins over the environment";
    res = f.Post(reg, flag_token, "", "text/plain");
    EXPECT_EQ(res->status, 200) << res->body;
  }
}

// /api/counts with label, from, to and step, and /api/frames with from, to and limit, over a store whose
// contents the test wrote: frame f (captured at start + f s) has f % 3 people and, when f is even, a car.
TEST(WebPromises, CountsAndFramesAnswerTheirFiltersExactly) {
  test::TempDir dir;
  const std::string db = (dir / "store.db").string();
  const double start = std::floor((unix_now() - 600) / 60) * 60;  // a whole minute, ten minutes ago
  {
    auto store = open_store(db);
    std::vector<Result> results;
    std::vector<FrameRecord> frames;
    for (int64_t f = 0; f < 30; ++f) {
      Result r;
      r.stream = "cam";
      r.algo = "people";
      r.frame = f;
      r.pts = double(f);
      r.ts = r.capture_ts = start + double(f);
      for (int64_t i = 0; i < f % 3; ++i) r.detections.push_back({"person", 0, 0.9f, {10, 10, 20, 40}, {}});
      if (f % 2 == 0) r.detections.push_back({"car", 2, 0.8f, {50, 10, 40, 20}, {}});
      results.push_back(std::move(r));
      if (f < 5)
        frames.push_back(
            {"cam", f, double(f), start + double(f), 64, 48, "cam/" + std::to_string(f) + ".jpg", 10});
    }
    store->write(results, frames);
  }
  test::WebProcess web({"serve", "--db", db}, "--listen", dir);
  const std::string from = std::to_string(int64_t(start)), to9 = std::to_string(int64_t(start) + 9);

  auto people =
      get_json(web, "/api/counts?stream=cam&label=person&step=1s&clock=wall&from=" + from + "&to=" + to9);
  EXPECT_EQ(people["label"], "person") << people;
  EXPECT_EQ(people["step"], "1s");
  ASSERT_EQ(people["points"].size(), 10u) << people;
  for (int f = 0; f < 10; ++f) {
    EXPECT_EQ(people["points"][f]["t"], start + f);
    EXPECT_EQ(people["points"][f]["avg"], f % 3) << f;
    EXPECT_EQ(people["points"][f]["samples"], 1);
  }
  auto cars = get_json(web, "/api/counts?stream=cam&label=car&step=1m&clock=wall&from=" + from);
  ASSERT_EQ(cars["points"].size(), 1u) << cars;
  EXPECT_EQ(cars["points"][0]["t"], start);
  EXPECT_EQ(cars["points"][0]["samples"], 30);
  EXPECT_DOUBLE_EQ(cars["points"][0]["avg"].get<double>(), 0.5);
  EXPECT_EQ(cars["points"][0]["min"], 0);
  EXPECT_EQ(cars["points"][0]["max"], 1);
  // The default label is the total: people and car together, 0 .. 3.
  auto total = get_json(web, "/api/counts?stream=cam&step=1m&clock=wall&from=" + from);
  EXPECT_EQ(total["label"], "*");
  EXPECT_EQ(total["points"][0]["max"], 3) << total;  // frame 2: two people and a car
  EXPECT_EQ(total["points"][0]["min"], 0);           // frame 3: nobody

  auto seqs = [&](const std::string& query) {
    std::vector<int64_t> out;
    auto answer = get_json(web, "/api/frames?stream=cam" + query);  // kept: the loop reads into it
    for (const auto& f : answer["frames"]) out.push_back(f["seq"]);
    return out;
  };
  EXPECT_EQ(seqs(""), (std::vector<int64_t>{4, 3, 2, 1, 0}));  // newest first
  EXPECT_EQ(seqs("&limit=2"), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(seqs("&from=" + std::to_string(start + 1) + "&to=" + std::to_string(start + 3)),
            (std::vector<int64_t>{3, 2, 1}));
  EXPECT_TRUE(seqs("&to=" + std::to_string(start - 1)).empty());
}

}  // namespace
}  // namespace sf
