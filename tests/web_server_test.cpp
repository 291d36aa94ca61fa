// The web server as users meet it: `sightflow run --serve` and `sightflow serve` started as processes,
// read over real HTTP by ffmpeg (MJPEG), promtool and a real Prometheus server, and driven through the
// API (token, streams started and stopped, archived frames that must stay inside their folder), and
// `serve --redis` showing streams that other processes capture and infer.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "media/jpeg_codec.hpp"
#include "redis_server.hpp"
#include "sightflow/frame.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"
#include "web_process.hpp"

namespace sf {
namespace {

nlohmann::json get_json(const test::WebProcess& web, const std::string& path, int* status = nullptr) {
  auto res = web.client().Get(path.c_str());
  if (!res) return nullptr;
  if (status) *status = res->status;
  return nlohmann::json::parse(res->body, nullptr, false);
}

bool has_results(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() && !j["results"].empty();
}

bool has_points(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() && j["points"].size() >= 2;
}

std::vector<std::string> run_args(const test::TempDir& dir, const std::string& detector) {
  return {"run",           "--detector", detector,
          "--mode",        "realtime",   "--loop",
          "--no-progress", "--out",      (dir / "results.jsonl").string()};
}

TEST(WebServer, MjpegFramesDecodeAndTheApiAndMetricsDescribeTheRun) {
  test::TempDir dir;
  auto args = run_args(dir, "haar-face");
  args.insert(args.end(), {"--db", (dir / "store.db").string()});
  test::WebProcess web(args, "--serve", dir);

  // ffmpeg as a viewer: five frames of the multipart stream, each a whole JPEG of the source's size.
  std::string output;
  ASSERT_EQ(test::run_command({"ffmpeg", "-v", "error", "-f", "mpjpeg", "-i", web.url() + "/video/vtest",
                               "-frames:v", "5", "-y", (dir / "frame%02d.jpg").string()},
                              &output, 120),
            0)
      << output << web.log();
  for (int i = 1; i <= 5; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "frame%02d.jpg", i);
    auto image = cv::imread((dir / name).string());
    ASSERT_FALSE(image.empty()) << name;
    EXPECT_EQ(image.cols, 768);
    EXPECT_EQ(image.rows, 576);
  }
  ASSERT_EQ(test::run_command({"ffprobe", "-v", "error", "-f", "mpjpeg", "-show_entries",
                               "stream=width,height", "-of", "csv=p=0", web.url() + "/video/vtest"},
                              &output, 60),
            0);
  EXPECT_NE(output.find("768,576"), std::string::npos) << output;

  auto streams = get_json(web, "/api/streams");
  ASSERT_EQ(streams["streams"].size(), 1u) << streams;
  auto s = streams["streams"][0];
  EXPECT_EQ(s["name"], "vtest");
  EXPECT_EQ(s["state"], "running");
  EXPECT_EQ(s["controllable"], false);
  EXPECT_GT(s["frames_read"].get<int64_t>(), 0);
  EXPECT_EQ(s["algorithms"][0]["name"], "haar-face");
  EXPECT_TRUE(s["algorithms"][0]["latency_ms"].contains("model"));
  EXPECT_FALSE(web.wait_for("/api/streams/vtest/latest", has_results).empty());
  auto counts = web.wait_for("/api/counts?stream=vtest&step=1s", has_points);
  ASSERT_FALSE(counts.empty()) << web.log();
  EXPECT_EQ(nlohmann::json::parse(counts)["algo"], "haar-face");

  int status = 0;
  EXPECT_EQ(get_json(web, "/api/streams/nope", &status)["code"], 404);
  EXPECT_EQ(status, 404);
  get_json(web, "/api/counts?step=1s", &status);
  EXPECT_EQ(status, 400);
  EXPECT_NE(
      get_json(web, "/api/counts?stream=vtest&step=5s", &status)["message"].get<std::string>().find("5s"),
      std::string::npos);
  EXPECT_EQ(status, 400);
  auto snapshot = web.client().Get("/snapshot/vtest");
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(
      decode_jpeg(reinterpret_cast<const unsigned char*>(snapshot->body.data()), snapshot->body.size()).cols,
      768);

  auto metrics = web.client().Get("/metrics");
  ASSERT_TRUE(metrics);
  const auto& text = metrics->body;
  EXPECT_NE(text.find("\nsightflow_frames_read_total{stream=\"vtest\"} "), std::string::npos) << text;
  EXPECT_NE(
      text.find("\nsightflow_stage_seconds_bucket{stream=\"vtest\",algo=\"haar-face\",stage=\"model\","),
      std::string::npos);
  EXPECT_NE(text.find("\nsightflow_result_latency_seconds_count{stream=\"vtest\",algo=\"haar-face\"} "),
            std::string::npos);
  EXPECT_NE(text.find("\nsightflow_results_stored_total{pipeline=\"vtest\"} "), std::string::npos);
  EXPECT_NE(text.find("\nsightflow_build_info{"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_EQ(test::promtool_problems(text), "");
}

// fps is Prometheus's to compute from the counters: the query a dashboard would make.
TEST(WebServer, PrometheusScrapesTheEngineAndComputesItsInputRate) {
  test::TempDir dir;
  test::WebProcess web(run_args(dir, "haar-face"), "--serve", dir);
  int prometheus_port = test::free_tcp_port();
  std::ofstream(dir / "prometheus.yml") << "global:\n  scrape_interval: 1s\n"
                                        << "scrape_configs:\n  - job_name: sightflow\n    static_configs:\n"
                                        << "      - targets: ['127.0.0.1:" << web.port() << "']\n";
  test::ChildProcess prometheus({"prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir / "tsdb").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                                "/dev/null", (dir / "prometheus.log").string());
  httplib::Client client("127.0.0.1", prometheus_port);
  nlohmann::json answer;
  for (int i = 0; i < 120; ++i) {
    auto res = client.Get("/api/v1/query?query=rate(sightflow_frames_read_total%5B5s%5D)");
    if (res && res->status == 200) {
      answer = nlohmann::json::parse(res->body, nullptr, false);
      if (answer.is_object() && !answer["data"]["result"].empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_TRUE(answer.is_object() && !answer["data"]["result"].empty())
      << answer << test::read_file(dir / "prometheus.log");
  auto series = answer["data"]["result"][0];
  EXPECT_EQ(series["metric"]["stream"], "vtest");
  EXPECT_EQ(series["metric"]["job"], "sightflow");
  EXPECT_GT(std::stod(series["value"][1].get<std::string>()), 0.0) << series;
}

TEST(WebServer, StreamsStartAndStopWithATokenAndArchivedFramesStayInTheirFolder) {
  test::TempDir dir;
  auto db = (dir / "store.db").string(), archive = (dir / "archive").string();
  const std::string videos = std::filesystem::path(test::vtest_path()).parent_path().string();
  test::WebProcess web(
      {"serve", "--token", "s3cret", "--db", db, "--archive", archive, "--allow-source-dir", videos},
      "--listen", dir);
  auto c = web.client();
  std::string body = nlohmann::json{{"name", "cam"}, {"source", test::vtest_path()}, {"detector", "hog"},
                                    {"loop", true},  {"mode", "realtime"},           {"frame_step", 2}}
                         .dump();
  httplib::Headers good{{"Authorization", "Bearer s3cret"}}, wrong{{"Authorization", "Bearer guess"}};

  auto res = c.Post("/api/streams", body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(nlohmann::json::parse(res->body)["code"], 401);
  EXPECT_EQ(c.Post("/api/streams", wrong, body, "application/json")->status, 401);
  // Inside the allowed folder a missing file is the source's own error; outside it, the same refusal
  // whether the file exists or not.
  res = c.Post("/api/streams", good,
               nlohmann::json{{"name", "bad"}, {"source", videos + "/no-such-video.mp4"}}.dump(),
               "application/json");
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("no-such-video.mp4"), std::string::npos) << res->body;
  std::string refusal;
  for (const char* source : {"/no/such/video.mp4", "/etc/hostname", "/dev/zero"}) {
    res = c.Post("/api/streams", good, nlohmann::json{{"name", "bad"}, {"source", source}}.dump(),
                 "application/json");
    EXPECT_EQ(res->status, 403) << source << ": " << res->body;
    auto message = nlohmann::json::parse(res->body, nullptr, false).value("message", "");
    EXPECT_EQ(message.rfind("source not allowed: ", 0), 0u) << res->body;
    if (std::string(source) != "/dev/zero") {
      if (refusal.empty()) refusal = message;
      EXPECT_EQ(message, refusal) << "a refusal must not tell whether " << source << " exists";
    }
  }
  EXPECT_EQ(c.Post("/api/streams", good, "{not json", "application/json")->status, 400);

  res = c.Post("/api/streams", good, body, "application/json");
  ASSERT_EQ(res->status, 201) << res->body << web.log();
  EXPECT_EQ(nlohmann::json::parse(res->body)["controllable"], true);
  EXPECT_EQ(c.Post("/api/streams", good, body, "application/json")->status, 409);
  ASSERT_FALSE(web.wait_for("/api/streams/cam/latest", has_results).empty()) << web.log();
  EXPECT_FALSE(web.wait_for("/api/counts?stream=cam", has_points).empty());

  // An archived frame is listed and served.
  auto listed = web.wait_for("/api/frames?stream=cam", [](const std::string& b) {
    auto j = nlohmann::json::parse(b, nullptr, false);
    return j.is_object() && !j["frames"].empty();
  });
  ASSERT_FALSE(listed.empty()) << web.log();
  auto url = nlohmann::json::parse(listed)["frames"][0]["url"].get<std::string>();
  auto frame = c.Get(url.c_str());
  ASSERT_EQ(frame->status, 200) << url;
  EXPECT_EQ(decode_jpeg(reinterpret_cast<const unsigned char*>(frame->body.data()), frame->body.size()).rows,
            576);

  // A row pointing outside the archive folder (a tampered or foreign store) is refused; so are paths.
  std::ofstream(dir / "secret.jpg") << "not for the web";
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  sqlite3_busy_timeout(handle, 10000);
  EXPECT_EQ(
      sqlite3_exec(handle,
                   "INSERT INTO frames(stream, seq, pts, ts, width, height, archive_path, archive_bytes) "
                   "VALUES ('cam', 99999999, 0, 0, 1, 1, '../secret.jpg', 15)",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(handle);
  res = c.Get("/api/frames/cam/99999999.jpg");
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(res->body.find("not for the web"), std::string::npos);
  EXPECT_EQ(c.Get("/api/frames/..%2Fsecret/1.jpg")->status, 404);
  EXPECT_EQ(c.Get("/api/frames/cam/..%2F..%2Fsecret.jpg")->status, 404);

  EXPECT_EQ(c.Delete("/api/streams/cam")->status, 401);
  EXPECT_EQ(c.Delete("/api/streams/nope", good)->status, 404);
  res = c.Delete("/api/streams/cam", good);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_FALSE(web.wait_for("/api/streams/cam",
                            [](const std::string& b) {
                              return nlohmann::json::parse(b, nullptr, false).value("state", "") == "stopped";
                            })
                   .empty());
}

// A run that tracks and counts: its events (from the store, with thumbnails), the crossings and
// occupancy series, the geometry the drawing uses, and the counting metrics, which promtool accepts with a
// zone name that needs escaping.
TEST(WebServer, CountingRunsServeEventsSeriesAndPrometheusCounters) {
  test::TempDir dir;
  const std::string zone = "all \"of\" it";
  auto args = run_args(dir, "hog");
  args.insert(args.end(), {"--track", "--line", "door=0,300,768,300", "--zone",
                           zone + "=0,0,768,0,768,576,0,576", "--db", (dir / "store.db").string()});
  test::WebProcess web(args, "--serve", dir);

  auto has_events = [](const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    return j.is_object() && !j["events"].empty();
  };
  auto listed = web.wait_for("/api/events?stream=vtest", has_events, 300);
  ASSERT_FALSE(listed.empty()) << web.log();
  auto events = nlohmann::json::parse(listed);
  EXPECT_EQ(events["source"], "store");
  double newest = 1e300;
  bool thumbnail_seen = false;
  for (const auto& e : events["events"]) {
    EXPECT_EQ(e["stream"], "vtest");
    EXPECT_EQ(e["algo"], "hog");
    EXPECT_TRUE(e["type"] == "enter" || e["type"] == "exit" || e["type"] == "line") << e;
    EXPECT_TRUE(e.contains("track_id")) << e;
    EXPECT_LE(e["ts"].get<double>(), newest) << "newest first";
    newest = e["ts"].get<double>();
    if (e.contains("thumbnail") && !thumbnail_seen) {
      auto jpeg = web.client().Get(e["thumbnail"].get<std::string>().c_str());
      ASSERT_TRUE(jpeg);
      ASSERT_EQ(jpeg->status, 200) << e;
      auto image = decode_jpeg(reinterpret_cast<const unsigned char*>(jpeg->body.data()), jpeg->body.size());
      EXPECT_EQ(image.cols, 240);
      EXPECT_EQ(image.rows, 180);
      thumbnail_seen = true;
    }
  }
  EXPECT_TRUE(thumbnail_seen) << listed;
  auto enters = get_json(web, "/api/events?stream=vtest&type=enter&limit=1");
  ASSERT_EQ(enters["events"].size(), 1u) << enters;
  EXPECT_EQ(enters["events"][0]["type"], "enter");
  EXPECT_EQ(enters["events"][0]["name"], zone);
  EXPECT_TRUE(get_json(web, "/api/events?stream=vtest&to=1000")["events"].empty());
  int status = 0;
  get_json(web, "/api/events?limit=0", &status);
  EXPECT_EQ(status, 400);
  get_json(web, "/api/lines?step=1s", &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(web.client().Get("/api/events/999999999.jpg")->status, 404);

  // Crossings and occupancy over time: one point per second of results, zeros included.
  auto lines = web.wait_for("/api/lines?stream=vtest", [](const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    return j.is_object() && j["lines"].contains("door") && j["lines"]["door"].size() >= 2;
  });
  ASSERT_FALSE(lines.empty()) << get_json(web, "/api/lines?stream=vtest");
  auto door = nlohmann::json::parse(lines)["lines"]["door"];
  EXPECT_TRUE(door[0].contains("in") && door[0].contains("out") && door[0]["samples"].get<int>() > 0) << door;
  auto zones = get_json(web, "/api/zones?stream=vtest&step=1m");
  ASSERT_TRUE(zones["zones"].contains(zone)) << zones;
  EXPECT_GE(zones["zones"][zone][0]["max"].get<int>(), zones["zones"][zone][0]["min"].get<int>());

  // The stages publish where the lines and zones are, which the live video draws.
  auto latest = get_json(web, "/api/streams/vtest/latest")["results"][0];
  EXPECT_EQ(latest["geometry"]["lines"]["door"], nlohmann::json({0, 300, 768, 300})) << latest;
  EXPECT_EQ(latest["geometry"]["zones"][zone].size(), 8u) << latest;

  auto metrics = web.client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("# TYPE sightflow_line_crossings_total counter"), std::string::npos);
  for (const char* direction : {"in", "out"})
    EXPECT_NE(
        metrics->body.find("sightflow_line_crossings_total{stream=\"vtest\",line=\"door\",direction=\"" +
                           std::string(direction) + "\"}"),
        std::string::npos)
        << metrics->body;
  EXPECT_NE(metrics->body.find("sightflow_zone_occupancy{stream=\"vtest\",zone=\"all \\\"of\\\" it\"}"),
            std::string::npos)
      << metrics->body;
  EXPECT_EQ(test::promtool_problems(metrics->body), "");
}

// A server over a store that others wrote: events, crossings, occupancy and counts come from the store,
// and an event whose frame the archive kept has that frame as its thumbnail.
TEST(WebServer, StoredEventsAndSeriesAreServedWithArchivedFramesAsThumbnails) {
  test::TempDir dir;
  const std::string db = (dir / "store.db").string();
  const auto archive = dir / "archive";
  std::filesystem::create_directories(archive / "cam");
  auto jpeg = encode_jpeg(cv::Mat(48, 64, CV_8UC3, cv::Scalar(0, 128, 255)));
  std::ofstream(archive / "cam/x-5.jpg", std::ios::binary)
      .write(reinterpret_cast<const char*>(jpeg.data()), std::streamsize(jpeg.size()));
  {
    auto store = open_store(db);
    std::vector<Result> results;
    const double start = unix_now() - 30;
    for (int64_t f = 0; f < 30; ++f) {
      Result r;
      r.stream = "cam";
      r.algo = "people";
      r.frame = f;
      r.pts = double(f) / 2;
      r.ts = r.capture_ts = start + double(f) / 2;
      r.detections.push_back({"person", 0, 0.9f, {10, 10, 20, 40}, {}, 4});
      r.analytics["lines"] = {{"door", {{"in", f >= 5 ? 1 : 0}, {"out", 0}}}};
      r.analytics["zones"] = {{"lawn", {{"count", f >= 12 ? 1 : 0}}}};
      if (f == 5) r.events.push_back({"line", "door", 4, "person", "in", std::nullopt});
      if (f == 12) r.events.push_back({"enter", "lawn", 4, "person", "", std::nullopt});
      results.push_back(std::move(r));
    }
    store->write(results, {{"cam", 5, 2.5, start + 2.5, 64, 48, "cam/x-5.jpg", int64_t(jpeg.size())}});
  }
  test::WebProcess web({"serve", "--db", db, "--archive", archive.string()}, "--listen", dir);

  auto events = get_json(web, "/api/events?stream=cam");
  EXPECT_EQ(events["source"], "store") << events;
  ASSERT_EQ(events["events"].size(), 2u) << events;
  EXPECT_EQ(events["events"][0]["type"], "enter");
  EXPECT_FALSE(events["events"][0].contains("thumbnail")) << "frame 12 was not archived";
  auto line = events["events"][1];
  EXPECT_EQ(line["direction"], "in");
  EXPECT_EQ(line["track_id"], 4);
  EXPECT_EQ(line["frame"], 5);
  ASSERT_EQ(line["thumbnail"], "/api/frames/cam/5.jpg") << line;
  auto thumbnail = web.client().Get("/api/frames/cam/5.jpg");
  ASSERT_TRUE(thumbnail);
  ASSERT_EQ(thumbnail->status, 200);
  EXPECT_EQ(
      decode_jpeg(reinterpret_cast<const unsigned char*>(thumbnail->body.data()), thumbnail->body.size())
          .cols,
      64);
  EXPECT_EQ(get_json(web, "/api/events?stream=cam&type=line")["events"].size(), 1u);

  auto lines = get_json(web, "/api/lines?stream=cam");
  EXPECT_EQ(lines["source"], "store") << lines;
  EXPECT_EQ(lines["algo"], "people");
  int64_t in = 0, samples = 0;
  for (const auto& p : lines["lines"]["door"]) {
    in += p["in"].get<int64_t>();
    samples += p["samples"].get<int64_t>();
  }
  EXPECT_EQ(in, 1) << lines;
  EXPECT_EQ(samples, 30);
  auto zones = get_json(web, "/api/zones?stream=cam&step=1h&from=0");
  EXPECT_EQ(zones["source"], "store") << zones;
  ASSERT_FALSE(zones["zones"]["lawn"].empty()) << zones;
  EXPECT_EQ(zones["zones"]["lawn"].back()["max"], 1);
  auto counts = get_json(web, "/api/counts?stream=cam");
  EXPECT_EQ(counts["source"], "store");
  EXPECT_EQ(counts["clock"], "wall");  // its writer recorded no clock for the stream
  // The same results on the media clock: pts 0 .. 14.5 s is the first minute; the whole stream by default.
  auto media = get_json(web, "/api/counts?stream=cam&clock=media&step=1m");
  EXPECT_EQ(media["clock"], "media");
  ASSERT_EQ(media["points"].size(), 1u) << media;
  EXPECT_EQ(media["points"][0]["t"], 0);
  EXPECT_EQ(media["points"][0]["samples"], 30);
  EXPECT_EQ(get_json(web, "/api/lines?stream=cam&clock=media")["lines"]["door"].size(), 15u);
  int status = 0;
  get_json(web, "/api/counts?stream=cam&clock=tai", &status);
  EXPECT_EQ(status, 400);
  auto frames = get_json(web, "/api/frames?stream=cam");
  ASSERT_EQ(frames["frames"].size(), 1u) << frames;
  EXPECT_EQ(frames["frames"][0]["url"], "/api/frames/cam/5.jpg");
}

TEST(WebServer, RefusesToListenBeyondLoopbackWithoutAToken) {
  std::string output;
  int status = test::run_command(
      {test::sightflow_bin(), "serve", "--listen", "0.0.0.0:" + std::to_string(test::free_tcp_port())},
      &output, 60);
  EXPECT_NE(status, 0);
  EXPECT_NE(output.find("refusing to listen on 0.0.0.0 without a token"), std::string::npos) << output;
}

// `serve`'s /metrics: the inference API's figures beside the web server's. Model names come from the
// request path, so a hostile one must neither break the page nor add series: unknown names count as one.
TEST(WebServer, ServeCountsUnknownModelNamesAsOneAndItsMetricsPassPromtool) {
  test::TempDir dir;
  test::WebProcess web({"serve"}, "--listen", dir);
  auto c = web.client();
  auto bytes = encode_jpeg(cv::Mat(256, 128, CV_8UC3, cv::Scalar(90, 120, 150)), 90);
  std::string jpeg(bytes.begin(), bytes.end());
  for (const char* path : {"/predictions/a%22b%5C", "/predictions/a%22b%5C%0A", "/predictions/nope"}) {
    auto res = c.Post(path, jpeg, "image/jpeg");
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path << " " << res->body;
  }
  auto res = c.Post("/predictions/hog", jpeg, "image/jpeg");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  const auto& text = metrics->body;
  EXPECT_NE(text.find("\nsightflow_inference_requests_total{code=\"404\",model=\"unknown\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nsightflow_inference_requests_total{code=\"200\",model=\"hog\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("\nsightflow_inference_request_duration_seconds_count{model=\"hog\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("\nsightflow_inference_request_duration_seconds_count{model=\"unknown\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("\nsightflow_inference_batch_size_count{model=\"hog\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("a\\\"b"), std::string::npos) << "the client's name must not reach the page";
  EXPECT_NE(text.find("\nsightflow_build_info{"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
  EXPECT_EQ(test::promtool_problems(text), "");
}

TEST(WebServer, ServeRedisShowsAStreamOtherProcessesCaptureAndInfer) {
  test::TempDir dir;
  test::RedisServer redis;
  test::WebProcess web({"serve", "--redis", redis.url()}, "--listen", dir);
  test::ChildProcess capture(
      {test::sightflow_bin(), "capture", "--redis", redis.url(), "--stream", "cam", "--mode", "realtime",
       "--loop", "--maxlen", "200", "--spill-dir", (dir / "spill").string()},
      "/dev/null", (dir / "capture.log").string());
  test::ChildProcess worker({test::sightflow_bin(), "worker", "--redis", redis.url(), "--stream", "cam",
                             "--detector", "haar-face", "--max-age", "2"},
                            "/dev/null", (dir / "worker.log").string());
  auto listed = web.wait_for("/api/streams", [](const std::string& b) {
    auto j = nlohmann::json::parse(b, nullptr, false);
    return j.is_object() && !j["streams"].empty() && !j["streams"][0]["algorithms"].empty();
  });
  ASSERT_FALSE(listed.empty()) << web.log() << test::read_file(dir / "worker.log");
  auto s = nlohmann::json::parse(listed)["streams"][0];
  EXPECT_EQ(s["name"], "cam");
  EXPECT_EQ(s["state"], "remote");
  EXPECT_EQ(s["algorithms"][0]["name"], "haar-face");
  EXPECT_FALSE(web.wait_for("/api/streams/cam/latest", has_results).empty());
  auto snapshot = web.client().Get("/snapshot/cam");
  ASSERT_TRUE(snapshot);
  ASSERT_EQ(snapshot->status, 200);
  auto image =
      decode_jpeg(reinterpret_cast<const unsigned char*>(snapshot->body.data()), snapshot->body.size());
  EXPECT_EQ(image.cols, 768);
  EXPECT_FALSE(web.wait_for("/api/counts?stream=cam", has_points).empty());
  auto metrics = web.client().Get("/metrics");
  EXPECT_NE(metrics->body.find("sightflow_bus_stream_length{stream=\"cam\"}"), std::string::npos)
      << metrics->body;
  EXPECT_EQ(test::promtool_problems(metrics->body), "");
}

}  // namespace
}  // namespace sf
