// The web server's parts without a server: counts kept in memory, the live view's shared drawings, stream
// requests, the listen rule, results read back from JSON.
#include <gtest/gtest.h>
#include <httplib.h>

#include <opencv2/imgproc.hpp>

#include "draw/annotate.hpp"
#include "http/http_json.hpp"
#include "http/listen_security.hpp"
#include "media/jpeg_codec.hpp"
#include "test_support.hpp"
#include "web/analytics_history.hpp"
#include "web/count_history.hpp"
#include "web/event_log.hpp"
#include "web/live_view.hpp"
#include "web/stream_controller.hpp"
#include "web/web_server.hpp"

namespace sf {
namespace {

Result make_result(const std::string& stream, const std::string& algo, int64_t frame, double ts,
                   std::vector<std::string> labels, cv::Mat image = {}) {
  Result r;
  r.stream = stream;
  r.algo = algo;
  r.frame = frame;
  r.ts = r.capture_ts = ts;
  for (size_t i = 0; i < labels.size(); ++i)
    r.detections.push_back({labels[i], 0, 0.9f, cv::Rect2f(10.f + 30.f * float(i), 20, 25, 50), {}});
  r.image = image;
  return r;
}

TEST(Web, CountHistoryRebucketsAndCountsAbsentLabelsAsZero) {
  CountHistory history;
  double t0 = 1'800'000'000;  // a whole minute
  history.add(make_result("cam", "hog", 1, t0 + 0.2, {"person", "person", "car"}));
  history.add(make_result("cam", "hog", 2, t0 + 0.7, {"person"}));
  history.add(make_result("cam", "hog", 3, t0 + 1.5, {}));
  history.add(make_result("cam", "hog", 4, t0 + 61, {"car"}));
  history.add(make_result("cam", "hog", 5, t0 + 0.9, {"car"}));  // late, lands in the first second

  auto all = history.points("cam", "hog", "*", t0, t0 + 100, 1);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].t, t0);
  EXPECT_EQ(all[0].samples, 3);
  EXPECT_DOUBLE_EQ(all[0].avg, (3 + 1 + 1) / 3.0);
  EXPECT_EQ(all[0].max, 3);
  EXPECT_EQ(all[1].avg, 0);

  auto person = history.points("cam", "hog", "person", t0, t0 + 100, 1);
  ASSERT_EQ(person.size(), 3u);
  EXPECT_EQ(person[0].min, 0);  // result 5 had no person
  EXPECT_EQ(person[0].max, 2);
  EXPECT_EQ(person[2].avg, 0);

  auto minutes = history.points("cam", "hog", "car", t0, t0 + 100, 60);
  ASSERT_EQ(minutes.size(), 2u);
  EXPECT_EQ(minutes[0].samples, 4);
  EXPECT_DOUBLE_EQ(minutes[0].avg, 2 / 4.0);
  EXPECT_EQ(minutes[1].t, t0 + 60);
  EXPECT_TRUE(history.points("cam", "other", "*", t0, t0 + 100, 1).empty());
  EXPECT_EQ(history.algorithms("cam"), std::vector<std::string>{"hog"});
}

TEST(Web, LiveViewEncodesEachVersionOnceAndSkipsToTheNewest) {
  LiveView live;
  cv::Mat image(240, 320, CV_8UC3, cv::Scalar(40, 90, 160));
  live.publish_result(make_result("cam", "hog", 1, 1e9, {"person", "person"}, image));
  auto first = live.next_frame("cam", 0, 1.0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->version, 1);
  auto decoded = decode_jpeg(*first->bytes);
  EXPECT_EQ(decoded.cols, 320);
  EXPECT_EQ(decoded.rows, 240);
  // Boxes are drawn: the drawing differs from the plain frame.
  cv::Mat diff;
  cv::absdiff(decoded, image, diff);
  EXPECT_GT(cv::sum(diff)[0] + cv::sum(diff)[1] + cv::sum(diff)[2], 1e5);
  // A second viewer of the same version gets the same bytes, not a second encoding.
  auto again = live.next_frame("cam", 0, 1.0);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->bytes.get(), first->bytes.get());
  // A newer frame within the encode interval: a viewer that has not seen the recent drawing gets it, one
  // that has seen it gets a new drawing.
  live.publish_result(make_result("cam", "hog", 2, 1e9 + 0.1, {"person"}, image));
  auto recent = live.next_frame("cam", 0, 1.0);
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->bytes.get(), first->bytes.get());
  auto fresh = live.next_frame("cam", 1, 1.0);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->version, 2);
  // Nothing new: the wait times out.
  EXPECT_FALSE(live.next_frame("cam", 2, 0.05));
  EXPECT_FALSE(live.next_frame("unknown", 0, 0.05));
  // Three new results while the viewer was busy: it gets the newest only.
  for (int i = 3; i <= 5; ++i) live.publish_result(make_result("cam", "hog", i, 1e9 + i, {"person"}, image));
  auto newest = live.next_frame("cam", 2, 1.0);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->version, 5);
  EXPECT_EQ(live.latest_count("cam", "hog"), 1);
  EXPECT_EQ(live.latest_count("cam", "face"), -1);
  auto latest = live.latest_results("cam");
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0]["frame"], 5);
  live.viewer_joined("cam");
  EXPECT_EQ(live.viewers("cam"), 1);
  live.viewer_left("cam");
  EXPECT_EQ(live.viewers(), 0);
  live.close();
  EXPECT_FALSE(live.next_frame("cam", 5, 5.0));  // returns at once after close()
}

// A result of the counting stages: the line "door" and zone "lawn" with `inside` tracks, and its events.
Result counted_result(int64_t frame, double ts, int64_t inside, std::vector<Event> events,
                      cv::Mat image = {}) {
  Result r = make_result("cam", "hog", frame, ts, {"person", "person"}, image);
  r.detections[0].track_id = 7;
  r.analytics["lines"] = {{"door", {{"in", 0}, {"out", 0}}}};
  r.analytics["zones"] = {{"lawn", {{"count", inside}}}};
  r.analytics["geometry"] = {{"lines", {{"door", {0, 120, 320, 120}}}},
                             {"zones", {{"lawn", {10, 10, 150, 10, 150, 100, 10, 100}}}}};
  r.events = std::move(events);
  return r;
}

TEST(Web, EventLogKeepsTheNewestEventsWithThumbnailsOfTheirFrames) {
  EventLog log(3, 160);
  cv::Mat image(240, 320, CV_8UC3, cv::Scalar(40, 90, 160));
  double t0 = 1'800'000'000;
  log.add(counted_result(1, t0, 1, {{"enter", "lawn", 7, "person", "", std::nullopt}}, image), image);
  log.add(counted_result(2, t0 + 1, 1, {{"line", "door", 7, "person", "in", std::nullopt}}), cv::Mat());
  log.add(counted_result(
              3, t0 + 2, 0,
              {{"exit", "lawn", 7, "person", "", 2.0}, {"line", "door", 7, "person", "out", std::nullopt}},
              image),
          image);
  // At most 3 per stream: the first enter is gone; newest first.
  auto all = log.recent({"cam", "", std::nullopt, std::nullopt, 100});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].event.frame, 3);
  EXPECT_EQ(all[2].event.event.direction, "in");
  EXPECT_FALSE(all[2].thumbnail);  // that result came without a frame
  auto exits = log.recent({"cam", "exit", t0 + 1.5, t0 + 3, 100});
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].event.event.dwell.value_or(-1), 2.0);
  EXPECT_TRUE(log.recent({"other", "", std::nullopt, std::nullopt, 100}).empty());
  EXPECT_EQ(log.recent({"", "", std::nullopt, std::nullopt, 1}).size(), 1u);
  auto jpeg = log.thumbnail(exits[0].id);
  ASSERT_TRUE(jpeg);
  auto thumbnail = decode_jpeg(*jpeg);
  EXPECT_EQ(thumbnail.cols, 160);
  EXPECT_EQ(thumbnail.rows, 120);
  EXPECT_FALSE(log.thumbnail(1));  // dropped with its event
  // A stored event finds its logged twin (and so its thumbnail); another does not.
  StoredEvent stored = exits[0].event;
  EXPECT_EQ(log.find(stored).value_or(-1), exits[0].id);
  stored.event.track_id = 8;
  EXPECT_FALSE(log.find(stored));
  auto json = event_json(exits[0].event);
  EXPECT_EQ(json["type"], "exit");
  EXPECT_EQ(json["dwell"], 2.0);
  EXPECT_EQ(json["ts"], t0 + 2);
  EXPECT_FALSE(json.contains("direction"));
}

TEST(Web, AnalyticsHistorySumsCrossingsAndAveragesOccupancyPerBucket) {
  AnalyticsHistory history;
  double t0 = 1'800'000'000;  // a whole minute
  history.add(counted_result(1, t0 + 0.1, 2, {{"line", "door", 7, "person", "in", std::nullopt}}));
  history.add(counted_result(2, t0 + 0.6, 4,
                             {{"line", "door", 7, "person", "in", std::nullopt},
                              {"line", "door", 8, "person", "out", std::nullopt}}));
  history.add(counted_result(3, t0 + 1.2, 0, {}));
  history.add(make_result("cam", "hog", 4, t0 + 2, {"person"}));  // no counting: adds nothing
  auto lines = history.lines({"cam", "hog", "1s", t0, t0 + 10, ""}, 1);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].line, "door");
  EXPECT_EQ(lines[0].t, t0);
  EXPECT_EQ(lines[0].in, 2);
  EXPECT_EQ(lines[0].out, 1);
  EXPECT_EQ(lines[0].samples, 2);
  EXPECT_EQ(lines[1].in + lines[1].out, 0);  // a second without crossings still has its point
  auto minute = history.zones({"cam", "hog", "1m", t0, t0 + 10, "lawn"}, 60);
  ASSERT_EQ(minute.size(), 1u);
  EXPECT_DOUBLE_EQ(minute[0].avg, 2.0);
  EXPECT_EQ(minute[0].min, 0);
  EXPECT_EQ(minute[0].max, 4);
  EXPECT_EQ(minute[0].samples, 3);
  EXPECT_TRUE(history.lines({"cam", "hog", "1s", t0, t0 + 10, "gate"}, 1).empty());
  EXPECT_EQ(history.algorithms("cam"), std::vector<std::string>{"hog"});
}

TEST(Web, LiveViewDrawsLinesAndZonesWithTheirCounters) {
  LiveView live;
  cv::Mat image(240, 320, CV_8UC3, cv::Scalar(40, 40, 40));
  Result plain = counted_result(1, 1e9, 3, {}, image);
  plain.analytics.erase("geometry");
  live.publish_result(plain);
  auto without = decode_jpeg(*live.next_frame("cam", 0, 1.0)->bytes);
  live.publish_result(counted_result(2, 1e9 + 0.1, 3, {}, image));
  auto with = decode_jpeg(*live.next_frame("cam", 1, 1.0)->bytes);
  // The line y = 120 is drawn across the frame, away from the boxes and the overlay panel.
  cv::Mat diff;
  cv::absdiff(with.row(120).colRange(200, 310), without.row(120).colRange(200, 310), diff);
  EXPECT_GT(cv::sum(diff)[0] + cv::sum(diff)[1] + cv::sum(diff)[2], 110 * 30.0);
  // The zone is tinted inside.
  cv::absdiff(with(cv::Rect(100, 60, 40, 30)), without(cv::Rect(100, 60, 40, 30)), diff);
  EXPECT_GT(cv::mean(diff)[0] + cv::mean(diff)[1] + cv::mean(diff)[2], 10.0);
  auto shapes = analytics_shapes(counted_result(3, 1e9, 3, {}));
  ASSERT_EQ(shapes.size(), 2u);
  EXPECT_EQ(shapes[0].caption, "lawn 3");  // zones first, under the lines
  EXPECT_EQ(shapes[1].caption, "door in 0 out 0");
  EXPECT_EQ(shapes[1].points.size(), 2u);
  live.close();
}

TEST(Web, StreamRequestsAreCheckedFieldByField) {
  auto r = parse_stream_request(nlohmann::json::parse(
      R"({"name":"door","source":"a.mp4","detector":"yolox-nano","params":{"input":416},"frame_step":5,)"
      R"("mode":"offline","loop":true})"));
  EXPECT_EQ(r.name, "door");
  EXPECT_EQ(r.algorithm.params.at("input"), "416");
  EXPECT_EQ(r.algorithm.schedule.frame_step, 5);
  EXPECT_EQ(r.mode, Mode::Offline);
  EXPECT_TRUE(r.loop);
  EXPECT_EQ(parse_stream_request(nlohmann::json::parse(R"({"source":"/videos/lobby.mp4"})")).name, "lobby");
  auto rejects = [](const char* body, const std::string& needle) {
    try {
      parse_stream_request(nlohmann::json::parse(body));
      ADD_FAILURE() << "accepted " << body;
    } catch (const HttpError& e) {
      EXPECT_EQ(e.status, 400);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  rejects(R"({"name":"x"})", "source");
  rejects(R"({"source":"a.mp4","detectr":"hog"})", "detectr");
  rejects(R"({"source":"a.mp4","name":"../etc"})", "../etc");
  rejects(R"({"source":"a.mp4","frame_step":0})", "frame_step");
  rejects(R"({"source":"a.mp4","mode":"fast"})", "fast");
  rejects(R"({"source":"a.mp4","loop":"yes"})", "loop");
  rejects(R"([1,2])", "object");
}

// Found reading the routes beside the fuzz targets: "nan" parsed as a number and passed every range check
// (NaN compares false), so /video?fps=nan lifted the MJPEG cap and /api/events?limit=nan cast NaN to an
// integer (undefined behaviour; in practice no limit).
TEST(Web, QueryNumbersMustBeFinite) {
  httplib::Request req;
  req.params = {{"a", "2.5"}, {"b", "nan"}, {"c", "inf"}, {"d", "-INF"}, {"e", "1e999"}, {"f", "3x"}};
  EXPECT_EQ(query_number(req, "a"), 2.5);
  EXPECT_EQ(query_number(req, "missing"), std::nullopt);
  for (const char* key : {"b", "c", "d", "e", "f"}) {
    try {
      query_number(req, key);
      ADD_FAILURE() << "accepted " << key;
    } catch (const HttpError& e) {
      EXPECT_EQ(e.status, 400);
      EXPECT_NE(std::string(e.what()).find("not a finite number"), std::string::npos) << e.what();
    }
  }
}

TEST(Web, NonLoopbackAddressesNeedAToken) {
  EXPECT_NO_THROW(check_listen_security("127.0.0.1", ""));
  EXPECT_NO_THROW(check_listen_security("localhost", ""));
  EXPECT_NO_THROW(check_listen_security("::1", ""));
  EXPECT_NO_THROW(check_listen_security("0.0.0.0", "s3cret"));
  EXPECT_THROW(check_listen_security("0.0.0.0", ""), std::invalid_argument);
  EXPECT_THROW(check_listen_security("192.168.1.5", ""), std::invalid_argument);
  // Decided on what the host resolves to, not on how it is spelled.
  EXPECT_THROW(check_listen_security("127.evil", ""), std::invalid_argument);
  EXPECT_THROW(check_listen_security("127.0.0.1.evil", ""), std::invalid_argument);
  EXPECT_THROW(check_listen_security("::", ""), std::invalid_argument);
  EXPECT_THROW(check_listen_security("", ""), std::invalid_argument);
  EXPECT_NO_THROW(check_listen_security("127.1.2.3", ""));
  EXPECT_NO_THROW(check_listen_security("::ffff:127.0.0.1", ""));
  EXPECT_TRUE(resolves_to_loopback_only("localhost"));
  EXPECT_FALSE(resolves_to_loopback_only("127.evil"));
}

TEST(Web, ResultsReadBackFromTheirJson) {
  auto r = make_result("cam", "yolox-nano", 42, 1.8e9, {"person", "car"});
  r.pts = 4.2;
  r.detections[0].landmarks = {{1.5f, 2.5f}};
  auto back = result_from_json(nlohmann::json::parse(to_json(r).dump()));
  EXPECT_EQ(back.stream, "cam");
  EXPECT_EQ(back.algo, "yolox-nano");
  EXPECT_EQ(back.frame, 42);
  EXPECT_DOUBLE_EQ(back.pts, 4.2);
  ASSERT_EQ(back.detections.size(), 2u);
  EXPECT_EQ(back.detections[1].label, "car");
  EXPECT_FLOAT_EQ(back.detections[1].box.x, 40.f);
  ASSERT_EQ(back.detections[0].landmarks.size(), 1u);
  EXPECT_THROW(result_from_json(nlohmann::json::parse(R"({"stream":"cam"})")), std::invalid_argument);
}

}  // namespace
}  // namespace sf
