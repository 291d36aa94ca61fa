// The webhook sink against a real HTTP receiver on 127.0.0.1: delivery in order, only changes, a receiver
// that is down for a while, rejections, queue overflow and the drain at close all end with every result
// either delivered or in the dead-letter file.
#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "http/listen.hpp"
#include "sightflow/config.hpp"
#include "sink/webhook_sink.hpp"
#include "test_support.hpp"

using namespace sf;
using nlohmann::json;

namespace {

// An HTTP endpoint that records every POST /hook body and answers what `answer` says (200 by default).
class Receiver {
 public:
  using Answer = std::function<int(const json& body, int request_index, std::string& reply)>;

  explicit Receiver(int port, Answer answer = nullptr) : answer_(std::move(answer)) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      auto body = json::parse(req.body);
      int index;
      {
        std::lock_guard lock(mutex_);
        index = requests_++;
        content_types_.push_back(req.get_header_value("Content-Type"));
      }
      std::string reply;
      int status = answer_ ? answer_(body, index, reply) : 200;
      res.status = status;
      res.set_content(reply, "text/plain");
      std::lock_guard lock(mutex_);
      if (status == 200) accepted_.push_back(body);
      changed_.notify_all();
    });
    listen_in_background(server_, "127.0.0.1", port, thread_);
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }

  // Waits (bounded) until `n` bodies were accepted; returns them.
  std::vector<json> wait_for(size_t n, double timeout_s = 60) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return accepted_.size() >= n; });
    return accepted_;
  }
  std::vector<json> accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  std::vector<std::string> content_types() {
    std::lock_guard lock(mutex_);
    return content_types_;
  }

 private:
  Answer answer_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<json> accepted_;
  std::vector<std::string> content_types_;
  int requests_ = 0;
};

Result make_result(const std::string& stream, const std::string& algo, int64_t frame, int count) {
  Result r;
  r.stream = stream;
  r.algo = algo;
  r.frame = frame;
  r.pts = frame * 0.1;
  r.ts = 1.7e9 + frame;
  for (int i = 0; i < count; ++i)
    r.detections.push_back(
        {"person", 0, 0.5f + 0.1f * float(i), cv::Rect2f(10.f * float(i), 20, 30, 60), {}});
  return r;
}

WebhookOptions options_for(int port, const test::TempDir& dir) {
  WebhookOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  o.dead_letter_path = (dir / "dead.jsonl").string();
  // Short back-off keeps the tests quick; the schedule itself is the same code as the defaults.
  o.initial_backoff_s = 0.05;
  o.max_backoff_s = 0.2;
  o.timeout_s = 30;
  return o;
}

std::vector<int64_t> frames_of(const std::vector<json>& items) {
  std::vector<int64_t> frames;
  for (const auto& item : items) frames.push_back(item.at("frame").get<int64_t>());
  return frames;
}

// Waits (bounded) until `condition` holds.
bool eventually(const std::function<bool()>& condition, double timeout_s = 60) {
  for (int i = 0; i < int(timeout_s * 100); ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace

TEST(WebhookSink, DeliversEveryResultInOrderAsItsJsonLinesObject) {
  test::TempDir dir;
  int port = test::free_tcp_port();
  Receiver receiver(port);
  auto sink = make_webhook_sink(options_for(port, dir));
  std::vector<Result> written;
  for (int i = 0; i < 30; ++i) {
    written.push_back(make_result("cam", "hog", i, i % 4));
    sink->write(written.back());
  }
  sink->close();

  auto got = receiver.accepted();
  ASSERT_EQ(got.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) EXPECT_EQ(got[i], json::parse(to_json(written[i]).dump())) << i;
  for (const auto& type : receiver.content_types()) EXPECT_EQ(type, "application/json");
  auto s = sink->stats();
  EXPECT_EQ(s.delivered, 30u);
  EXPECT_EQ(s.dead_lettered, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_TRUE(test::read_jsonl(dir / "dead.jsonl").empty());
}

TEST(WebhookSink, RetriesServerErrorsAndKeepsTheOrder) {
  test::TempDir dir;
  int port = test::free_tcp_port();
  // The first two tries fail as an overloaded server would; nothing may overtake the result being retried.
  Receiver receiver(port, [](const json&, int index, std::string& reply) {
    if (index == 0) return 503;
    if (index == 1) {
      reply = "slow down";
      return 429;
    }
    return 200;
  });
  auto sink = make_webhook_sink(options_for(port, dir));
  for (int i = 0; i < 5; ++i) sink->write(make_result("cam", "hog", i, 1));
  sink->close();
  EXPECT_EQ(frames_of(receiver.accepted()), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  auto s = sink->stats();
  EXPECT_EQ(s.delivered, 5u);
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.dead_lettered, 0u);
}

// WEB.md: a 408 (the receiver timed out reading the request) is retried like a 5xx; close() keeps
// delivering what is queued to a receiver that is slow but answers, within the drain timeout (10 s).
TEST(WebhookSink, Retries408AndCloseDrainsTheQueueToASlowReceiver) {
  test::TempDir dir;
  int port = test::free_tcp_port();
  Receiver receiver(port, [](const json&, int index, std::string&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return index == 0 ? 408 : 200;
  });
  auto sink = make_webhook_sink(options_for(port, dir));
  for (int i = 0; i < 8; ++i) sink->write(make_result("cam", "hog", i, 1));
  sink->close();  // returns once the queue is empty
  EXPECT_EQ(frames_of(receiver.accepted()), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  auto s = sink->stats();
  EXPECT_EQ(s.delivered, 8u);
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(s.dead_lettered, 0u);
  EXPECT_TRUE(test::read_jsonl(dir / "dead.jsonl").empty());
  // The documented defaults: a 1000-result queue, 300 s of retries, a 10 s drain, back-off 0.5 s to 10 s.
  WebhookOptions defaults;
  EXPECT_EQ(defaults.queue_capacity, 1000u);
  EXPECT_EQ(defaults.max_retry_seconds, 300);
  EXPECT_EQ(defaults.drain_timeout_s, 10);
  EXPECT_EQ(defaults.initial_backoff_s, 0.5);
  EXPECT_EQ(defaults.max_backoff_s, 10);
}

TEST(WebhookSink, OnlyChangesSendsAResultWhenItsCountDiffersFromThePreviousOfTheSameStreamAndAlgorithm) {
  test::TempDir dir;
  int port = test::free_tcp_port();
  Receiver receiver(port);
  auto options = options_for(port, dir);
  options.only_changes = true;
  auto sink = make_webhook_sink(options);
  // cam/hog counts 0 0 1 1 1 2 0 0; door/hog interleaved with 3 3 3 (only its first is a change).
  std::vector<int> counts = {0, 0, 1, 1, 1, 2, 0, 0};
  for (int i = 0; i < int(counts.size()); ++i) {
    sink->write(make_result("cam", "hog", i, counts[size_t(i)]));
    if (i < 3) sink->write(make_result("door", "hog", 100 + i, 3));
  }
  sink->close();

  std::vector<int64_t> cam, door;
  for (const auto& body : receiver.accepted())
    (body["stream"] == "cam" ? cam : door).push_back(body["frame"]);
  EXPECT_EQ(cam, (std::vector<int64_t>{0, 2, 5, 6}));
  EXPECT_EQ(door, (std::vector<int64_t>{100}));
  auto s = sink->stats();
  EXPECT_EQ(s.delivered, 5u);
  EXPECT_EQ(s.skipped_unchanged, 6u);
}

TEST(WebhookSink, QueuesWhileTheReceiverIsDownThenDeliversEverything) {
  test::TempDir dir;
  int port = test::free_tcp_port();  // nothing listens there yet: every try is refused
  auto sink = make_webhook_sink(options_for(port, dir));
  for (int i = 0; i < 50; ++i) sink->write(make_result("cam", "hog", i, i % 3));

  // write() returned 50 times while nothing could be delivered: all 50 are held, none lost or sent.
  auto down = sink->stats();
  EXPECT_EQ(down.delivered, 0u);
  EXPECT_EQ(down.dead_lettered, 0u);
  EXPECT_EQ(down.queued, 50u);
  ASSERT_TRUE(eventually([&] { return sink->stats().retried >= 2; })) << "the sender never retried";

  Receiver receiver(port);
  auto got = receiver.wait_for(50);
  std::vector<int64_t> expected;
  for (int i = 0; i < 50; ++i) expected.push_back(i);
  EXPECT_EQ(frames_of(got), expected);
  sink->close();
  auto s = sink->stats();
  EXPECT_EQ(s.delivered, 50u);
  EXPECT_EQ(s.dead_lettered, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_TRUE(test::read_jsonl(dir / "dead.jsonl").empty());
}

TEST(WebhookSink, AResultTheReceiverRejectsGoesToTheDeadLetterFileWithTheReason) {
  test::TempDir dir;
  int port = test::free_tcp_port();
  Receiver receiver(port, [](const json& body, int, std::string& reply) {
    if (body["frame"] != 1) return 200;
    reply = "missing field 'camera_id'";
    return 400;
  });
  auto sink = make_webhook_sink(options_for(port, dir));
  for (int i = 0; i < 3; ++i) sink->write(make_result("cam", "hog", i, 2));
  sink->close();

  EXPECT_EQ(frames_of(receiver.accepted()), (std::vector<int64_t>{0, 2}));
  auto dead = test::read_jsonl(dir / "dead.jsonl");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["frame"], 1);
  EXPECT_EQ(dead[0]["stream"], "cam");
  EXPECT_EQ(dead[0]["count"], 2);
  EXPECT_EQ(dead[0]["attempts"], 1) << "a 400 is not retried";
  auto error = dead[0]["error"].get<std::string>();
  EXPECT_NE(error.find("HTTP 400"), std::string::npos) << error;
  EXPECT_NE(error.find("missing field 'camera_id'"), std::string::npos) << error;
  EXPECT_EQ(sink->stats().dead_lettered, 1u);
  EXPECT_EQ(sink->stats().delivered, 2u);
}

TEST(WebhookSink, AFullQueueDeadLettersTheOldestAndTheCountsAddUp) {
  test::TempDir dir;
  int port = test::free_tcp_port();
  // The receiver holds the first request until released: frame 0 is in flight, the queue fills behind it.
  std::mutex gate_mutex;
  std::condition_variable gate_cv;
  bool first_arrived = false, released = false;
  Receiver receiver(port, [&](const json&, int index, std::string&) {
    if (index == 0) {
      std::unique_lock lock(gate_mutex);
      first_arrived = true;
      gate_cv.notify_all();
      gate_cv.wait_for(lock, std::chrono::seconds(60), [&] { return released; });
    }
    return 200;
  });
  auto options = options_for(port, dir);
  options.queue_capacity = 4;
  auto sink = make_webhook_sink(options);
  sink->write(make_result("cam", "hog", 0, 1));
  {
    std::unique_lock lock(gate_mutex);
    ASSERT_TRUE(gate_cv.wait_for(lock, std::chrono::seconds(60), [&] { return first_arrived; }));
  }
  for (int i = 1; i <= 10; ++i) sink->write(make_result("cam", "hog", i, 1));

  // 10 written behind the one in flight into a queue of 4: the 6 oldest (1..6) were pushed out.
  auto full = sink->stats();
  EXPECT_EQ(full.dead_lettered, 6u);
  EXPECT_EQ(full.queued, 5u);  // 4 waiting + 1 in flight
  auto dead = test::read_jsonl(dir / "dead.jsonl");
  EXPECT_EQ(frames_of(dead), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  for (const auto& d : dead) {
    EXPECT_NE(d["error"].get<std::string>().find("queue full"), std::string::npos) << d.dump();
    EXPECT_EQ(d["attempts"], 0);
  }

  {
    std::lock_guard lock(gate_mutex);
    released = true;
  }
  gate_cv.notify_all();
  sink->close();
  EXPECT_EQ(frames_of(receiver.accepted()), (std::vector<int64_t>{0, 7, 8, 9, 10}));
  auto s = sink->stats();
  EXPECT_EQ(s.delivered, 5u);
  EXPECT_EQ(s.delivered + s.dead_lettered, 11u);
  EXPECT_EQ(s.queued, 0u);
}

TEST(WebhookSink, CloseGivesUpAfterTheDrainTimeoutAndDeadLettersWhatIsLeft) {
  test::TempDir dir;
  int port = test::free_tcp_port();  // never listening
  auto options = options_for(port, dir);
  options.drain_timeout_s = 0.3;
  auto sink = make_webhook_sink(options);
  for (int i = 0; i < 3; ++i) sink->write(make_result("cam", "hog", i, 0));
  sink->close();  // returns: a test that hangs here fails by the suite's timeout

  auto dead = test::read_jsonl(dir / "dead.jsonl");
  EXPECT_EQ(frames_of(dead), (std::vector<int64_t>{0, 1, 2}));
  for (const auto& d : dead)
    EXPECT_NE(d["error"].get<std::string>().find("drain timeout"), std::string::npos) << d.dump();
  EXPECT_GE(dead[0]["attempts"].get<int>(), 1);
  EXPECT_NE(dead[0]["error"].get<std::string>().find("cannot reach"), std::string::npos) << dead[0].dump();
  auto s = sink->stats();
  EXPECT_EQ(s.dead_lettered, 3u);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.queued, 0u);
}

TEST(WebhookSink, GivesUpOnAResultAfterMaxRetrySeconds) {
  test::TempDir dir;
  int port = test::free_tcp_port();
  Receiver receiver(port, [](const json& body, int, std::string&) { return body["frame"] == 0 ? 502 : 200; });
  auto options = options_for(port, dir);
  options.max_retry_seconds = 0.3;
  auto sink = make_webhook_sink(options);
  sink->write(make_result("cam", "hog", 0, 0));
  sink->write(make_result("cam", "hog", 1, 0));
  sink->close();
  EXPECT_EQ(frames_of(receiver.accepted()), (std::vector<int64_t>{1}));
  auto dead = test::read_jsonl(dir / "dead.jsonl");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0]["error"].get<std::string>().find("gave up"), std::string::npos) << dead[0].dump();
  EXPECT_NE(dead[0]["error"].get<std::string>().find("HTTP 502"), std::string::npos) << dead[0].dump();
  EXPECT_GE(dead[0]["attempts"].get<int>(), 2);
}

TEST(WebhookSink, RejectsUrlsItCannotUseNamingThem) {
  test::TempDir dir;
  for (std::string url : {"http://user:pw@hooks.example.com/x", "127.0.0.1:9000/hook", "ftp://host/x",
                          "http://:80/x", "http://host:99999/x", "http://host:abc/x", "https:///x", ""}) {
    WebhookOptions o;
    o.url = url;
    o.dead_letter_path = (dir / "dead.jsonl").string();
    try {
      make_webhook_sink(o);
      ADD_FAILURE() << "accepted " << url;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("'" + url + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(WebhookConfig, ReadsTheShortAndTheLongFormAndRejectsBadValuesWithTheLine) {
  const std::string head = "streams: [{source: a.mp4}]\nalgorithms: [{detector: hog}]\nsinks:\n";
  // The config holds the sink's options; the webhook sink's own reader turns them into WebhookOptions.
  auto webhook = [](const RunConfig& c) { return read_webhook_options(c.sinks.find("webhook")->options); };
  auto c = parse_run_config(head + "  webhook: http://127.0.0.1:9000/hook\n", "w.yaml");
  EXPECT_EQ(webhook(c).url, "http://127.0.0.1:9000/hook");
  EXPECT_FALSE(webhook(c).only_changes);

  c = parse_run_config(head +
                           "  webhook:\n    url: http://h/x\n    only_changes: true\n    queue: 7\n"
                           "    dead_letter: d.jsonl\n    timeout: 2\n    max_retry_seconds: 60\n"
                           "    ca_file: ca.pem\n",
                       "w.yaml");
  EXPECT_EQ(webhook(c).url, "http://h/x");
  EXPECT_TRUE(webhook(c).only_changes);
  EXPECT_EQ(webhook(c).queue_capacity, 7u);
  EXPECT_EQ(webhook(c).dead_letter_path, "d.jsonl");
  EXPECT_EQ(webhook(c).timeout_s, 2);
  EXPECT_EQ(webhook(c).max_retry_seconds, 60);
  EXPECT_EQ(webhook(c).ca_file, "ca.pem");

  auto expect_error = [&](const std::string& sinks, const std::vector<std::string>& fragments) {
    try {
      parse_run_config(head + sinks, "w.yaml");
      ADD_FAILURE() << "no error for " << sinks;
    } catch (const ConfigError& e) {
      for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
    }
  };
  expect_error("  webhook: ftp://h/x\n", {"w.yaml:4", "sinks.webhook", "ftp"});
  expect_error("  webhook:\n    url: http://h/x\n    retries: 3\n",
               {"w.yaml:6", "sinks.webhook.retries", "unknown"});
  expect_error("  webhook:\n    only_changes: true\n", {"w.yaml:5", "sinks.webhook.url", "missing"});
  expect_error("  webhook:\n    url: http://h/x\n    queue: 0\n", {"w.yaml:6", "sinks.webhook.queue"});
  expect_error("  webhook:\n    url: h:80\n", {"w.yaml:5", "sinks.webhook.url", "'h:80'"});
}

TEST(WebhookEndToEnd, RunDeliversEveryResultToTheWebhook) {
  test::TempDir dir;
  int port = test::free_tcp_port();
  Receiver receiver(port);
  std::string output;
  int rc =
      test::run_command({test::sightflow_bin(), "run", "--source", test::vtest_path(), "--detector", "none",
                         "--max-frames", "20", "--no-progress", "--out", (dir / "r.jsonl").string(),
                         "--webhook", "http://127.0.0.1:" + std::to_string(port) + "/hook",
                         "--webhook-dead-letter", (dir / "dead.jsonl").string()},
                        &output);
  ASSERT_EQ(rc, 0) << output;
  auto got = receiver.accepted();
  auto written = test::read_jsonl(dir / "r.jsonl");
  ASSERT_EQ(got.size(), 20u) << output;
  EXPECT_EQ(got, written) << "the webhook receives the JSON Lines objects";
  EXPECT_TRUE(test::read_jsonl(dir / "dead.jsonl").empty());
  // The sink reports its own counters: the CLI summary prints its sentence.
  EXPECT_NE(output.find("webhook: 20 results delivered, 0 retries, 0 dead-lettered"), std::string::npos)
      << output;

  rc = test::run_command({test::sightflow_bin(), "run", "--source", test::vtest_path(), "--detector", "none",
                          "--max-frames", "1", "--out", (dir / "r2.jsonl").string(), "--webhook",
                          "ftp://example.com/hook", "--webhook-dead-letter", (dir / "dead.jsonl").string()},
                         &output);
  EXPECT_NE(rc, 0);
  EXPECT_NE(output.find("ftp://example.com/hook"), std::string::npos) << output;
}
