// Stages across workers (docs/BUS.md, "Stages across workers") against a real redis-server: the lease,
// the fenced and idempotent commit, the exact stage log, and a takeover from a dead owner that rebuilds
// the stages and gives the same results as one worker.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <opencv2/imgproc.hpp>
#include <set>
#include <thread>

#include "bus/bus_metrics.hpp"
#include "bus/fenced_commands.hpp"
#include "bus/frame_publisher.hpp"
#include "bus/frame_worker.hpp"
#include "bus/group_info.hpp"
#include "bus/stage_input.hpp"
#include "bus/stream_keys.hpp"
#include "bus/stream_lease.hpp"
#include "redis_server.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

Frame numbered_frame(const std::string& stream, int64_t seq) {
  Frame f;
  f.stream = stream;
  f.seq = seq;
  f.pts = double(seq) / 7;  // not a round number: the log must keep it exactly
  f.wall_ts = unix_now();
  f.image = cv::Mat(48, 64, CV_8UC3, cv::Scalar(40, 90, 160));
  return f;
}

// seq % 3 boxes whose place and score follow the seq.
class SeqBoxes : public Algorithm {
 public:
  AlgorithmOutput run(std::span<const Frame> frames, StageTimes&) override {
    AlgorithmOutput out;
    const auto seq = frames.back().seq;
    for (int64_t i = 0; i < seq % 3; ++i)
      out.detections.push_back(
          {"person", 0, 0.5f + float(seq) / 97.f, cv::Rect2f(float(i) / 3.f, float(seq) / 7.f, 10, 20), {}});
    return out;
  }
};

// A running total of the boxes seen: each result's value depends on every result before it, in order.
class Tally : public Stage {
 public:
  void process(Result& result, const Frame&) override {
    seen_ += int64_t(result.detections.size());
    result.analytics["tally"] = seen_;
    if (result.frame % 4 == 3) result.events.push_back({"tally", "t", seen_, "person", "", std::nullopt});
  }

 private:
  int64_t seen_ = 0;
};

// Boxes as SeqBoxes, but while frame `at` runs another worker takes the lease: as if this one had paused
// past its ttl.
class LosesTheLease : public SeqBoxes {
 public:
  LosesTheLease(RedisConnection& redis, std::string key, int64_t at)
      : redis_(redis), key_(std::move(key)), at_(at) {}
  AlgorithmOutput run(std::span<const Frame> frames, StageTimes& times) override {
    if (frames.back().seq == at_) redis_.command({"SET", key_, "usurper", "PX", "60000"});
    return SeqBoxes::run(frames, times);
  }

 private:
  RedisConnection& redis_;
  std::string key_;
  int64_t at_;
};

// SeqBoxes at about 100 frames a second, so that a run lasts long enough to restart Redis under it.
class SlowBoxes : public SeqBoxes {
 public:
  AlgorithmOutput run(std::span<const Frame> frames, StageTimes& times) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return SeqBoxes::run(frames, times);
  }
};

class StreamOwnership : public ::testing::Test {
 protected:
  RedisConnection connect() { return RedisConnection(parse_redis_url(server.url())); }
  void publish(RedisConnection& redis, const std::string& stream, int frames) {
    PublisherOptions options;
    options.stream = stream;
    options.message.spill_dir = dir.path().string();
    FramePublisher publisher(redis, options);
    for (int i = 0; i < frames; ++i) publisher.publish(numbered_frame(stream, i));
  }
  std::unique_ptr<FrameProcessor> ordered_processor(const std::string& stream,
                                                    std::unique_ptr<Algorithm> algorithm = nullptr) {
    ProcessorOptions options;
    options.stream = stream;
    options.algo = "tally";
    options.log_stage_inputs = true;
    StageList stages;
    stages.push_back(std::make_unique<Tally>());
    if (!algorithm) algorithm = std::make_unique<SeqBoxes>();
    return std::make_unique<FrameProcessor>(std::move(algorithm), nullptr, options, nullptr,
                                            std::move(stages));
  }
  static WorkerOptions ordered_worker(const std::string& name) {
    WorkerOptions wo;
    wo.consumer = name;
    wo.ordered = true;
    wo.lease_s = 0.5;
    wo.block_s = 0.1;
    wo.idle_exit_s = 0.5;
    return wo;
  }
  // frame -> the result's JSON without its processing time (ts), from sf:results:STREAM.
  std::map<int64_t, nlohmann::json> results(RedisConnection& redis, const std::string& stream,
                                            size_t* entries = nullptr) {
    std::map<int64_t, nlohmann::json> out;
    auto list = parse_entries(redis.command({"XRANGE", results_key(stream), "-", "+"}).get());
    if (entries) *entries = list.size();
    for (const auto& e : list) {
      auto json = nlohmann::json::parse(*e.field("json"));
      json.erase("ts");
      json.erase("stream");
      for (auto& event : json["events"]) event.erase("ts"), event.erase("stream");
      out[json["frame"].get<int64_t>()] = json;
    }
    return out;
  }

  test::RedisServer server;
  test::TempDir dir;
};

TEST_F(StreamOwnership, OneOwnerAtATimeUntilReleasedOrExpired) {
  auto redis = connect();
  // Leases of a minute: a loaded machine may pause the test between two calls, and a short lease would
  // expire in that pause. Expiry itself is shown below with a short one.
  StreamLease a(redis, lease_key("cam", "workers"), "a", 60);
  StreamLease b(redis, lease_key("cam", "workers"), "b", 60);
  EXPECT_TRUE(a.hold());
  EXPECT_FALSE(b.hold());
  EXPECT_TRUE(a.hold());  // renewing
  EXPECT_EQ(b.holder(), "a");
  b.release();  // not b's: nothing happens
  EXPECT_EQ(a.holder(), "a");
  a.release();
  EXPECT_TRUE(b.hold());
  EXPECT_FALSE(a.hold());
  // b renews for 0.3 s and goes silent: its lease expires and a may take it.
  StreamLease b_briefly(redis, lease_key("cam", "workers"), "b", 0.3);
  EXPECT_TRUE(b_briefly.hold());
  bool taken = false;
  for (int i = 0; i < 3000 && !taken; ++i) {  // a minute only catches a lease that never expires
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    taken = a.hold();
  }
  EXPECT_TRUE(taken);
  EXPECT_EQ(b.holder(), "a");
}

TEST_F(StreamOwnership, ReadsAndCommitsOnlyUnderTheLeaseAndCommitsOnce) {
  auto redis = connect();
  publish(redis, "cam", 3);
  StreamLease owner(redis, lease_key("cam", "workers"), "owner", 5);
  StreamLease zombie(redis, lease_key("cam", "workers"), "zombie", 5);
  ASSERT_TRUE(owner.hold());
  // Entries reach only the lease's holder.
  EXPECT_THROW(fenced_read(redis, zombie, frames_key("cam"), "workers", 10, ">"), LeaseLost);
  EXPECT_EQ(read_groups(redis, frames_key("cam"))[0].pending, 0);
  EXPECT_EQ(fenced_read(redis, owner, frames_key("cam"), "workers", 2, ">").size(), 2u);
  EXPECT_EQ(fenced_read(redis, owner, frames_key("cam"), "workers", 10, "0").size(), 2u);  // its pending
  EXPECT_EQ(read_groups(redis, frames_key("cam"))[0].pending, 2);
  auto log = stage_log_key("cam", "tally");
  std::vector<OwnedCommand> batch = {{"XADD", results_key("cam"), "*", "frame", "5"},
                                     {"XADD", log, "*", "frame", "5", "input", "{}"}};
  EXPECT_THROW(fenced_commit(redis, zombie, log, 5, batch), LeaseLost);
  EXPECT_EQ(reply_integer(redis.command({"EXISTS", results_key("cam"), log}).get()), 0);
  EXPECT_TRUE(fenced_commit(redis, owner, log, 5, batch));
  // The same batch again (its reply was lost): the log already holds frame 5, nothing is added.
  EXPECT_FALSE(fenced_commit(redis, owner, log, 5, batch));
  EXPECT_EQ(reply_integer(redis.command({"XLEN", results_key("cam")}).get()), 1);
  EXPECT_EQ(reply_integer(redis.command({"XLEN", log}).get()), 1);
  // A batch without stage inputs (acknowledgements only) always runs.
  EXPECT_TRUE(fenced_commit(redis, owner, log, -1, {{"SET", "sf:test", "1"}}));
  EXPECT_EQ(reply_string(redis.command({"GET", "sf:test"}).get()), "1");
}

// The owner's second batch is refused: nothing of it is published, logged or acknowledged, the worker
// stops, and the usurper keeps its lease.
TEST_F(StreamOwnership, AWorkerThatLostItsLeasePublishesNothingMoreAndStops) {
  auto redis = connect();
  auto side = connect();
  publish(redis, "cam", 12);
  auto processor =
      ordered_processor("cam", std::make_unique<LosesTheLease>(side, lease_key("cam", "workers"), 5));
  FrameWorker worker(redis, *processor, ordered_worker("paused"));  // batches of 4
  std::atomic<bool> stop{false};
  EXPECT_THROW(worker.run(stop), LeaseLost);
  EXPECT_EQ(reply_integer(redis.command({"XLEN", results_key("cam")}).get()), 4);
  EXPECT_EQ(reply_integer(redis.command({"XLEN", stage_log_key("cam", "tally")}).get()), 4);
  auto groups = read_groups(redis, frames_key("cam"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].pending, 4);  // frames 4..7, for the new owner
  EXPECT_EQ(reply_string(redis.command({"GET", lease_key("cam", "workers")}).get()), "usurper");
}

// Redis restarts (AOF) while the owner works: it reconnects, keeps its lease and order, and every frame is
// committed once with what one worker produces.
TEST_F(StreamOwnership, AnOwnerRidesOutARestartOfRedisInOrder) {
  {
    auto redis = connect();
    publish(redis, "ref", 60);
    publish(redis, "cam", 60);
    auto processor = ordered_processor("ref");
    std::atomic<bool> stop{false};
    FrameWorker(redis, *processor, ordered_worker("solo")).run(stop);
  }
  RedisConnection redis(parse_redis_url(server.url()));  // retries forever
  auto processor = ordered_processor("cam", std::make_unique<SlowBoxes>());
  FrameWorker worker(redis, *processor, ordered_worker("owner"));
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::thread thread([&] {
    try {
      worker.run(stop);
    } catch (...) {
      error = std::current_exception();
    }
  });
  for (int i = 0; i < 6000 && processor->stats().processed < 12; ++i)  // a minute: load may slow it
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server.start();
  thread.join();
  ASSERT_FALSE(error);
  EXPECT_GE(worker.stats_json()["reconnects"].get<int64_t>(), 1);
  auto check = connect();
  size_t entries = 0;
  auto expected = results(check, "ref");
  ASSERT_EQ(expected.size(), 60u);
  EXPECT_EQ(results(check, "cam", &entries), expected);
  EXPECT_EQ(entries, 60u);
}

TEST(StageInput, RoundTripsEveryValueExactly) {
  Result r;
  r.frame = 12;
  r.pts = 1.0 / 3;
  r.ts = 1764630000.123456789;
  r.capture_ts = 1764630000.1;
  r.detections.push_back({"person", 3, 0.1f, cv::Rect2f(1.f / 3, 2.f / 7, 10.05f, 20.95f), {{0.3f, 0.7f}}});
  r.labels.push_back({"cat", 5, 0.123456f});
  r.values = {{"motion", {{"carried", true}}}};
  auto back = stage_input_from_json(stage_input_json(r), "cam", "a");
  EXPECT_EQ(back.stream, "cam");
  EXPECT_EQ(back.algo, "a");
  EXPECT_EQ(back.frame, 12);
  EXPECT_EQ(back.pts, r.pts);
  EXPECT_EQ(back.ts, r.ts);
  EXPECT_EQ(back.capture_ts, r.capture_ts);
  ASSERT_EQ(back.detections.size(), 1u);
  const auto& d = back.detections[0];
  EXPECT_EQ(d.label, "person");
  EXPECT_EQ(d.class_id, 3);
  EXPECT_EQ(d.score, 0.1f);
  EXPECT_EQ(d.box, r.detections[0].box);
  ASSERT_EQ(d.landmarks.size(), 1u);
  EXPECT_EQ(d.landmarks[0], r.detections[0].landmarks[0]);
  ASSERT_EQ(back.labels.size(), 1u);
  EXPECT_EQ(back.labels[0].score, 0.123456f);
  EXPECT_EQ(back.values, r.values);
  EXPECT_THROW(stage_input_from_json("{}", "cam", "a"), std::invalid_argument);
}

// A first owner commits a few batches and leaves; a second owner reads five entries and dies with the
// lease; a third waits for the lease to expire, rebuilds the stages from the log, takes the dead owner's
// entries over and finishes. Every frame is committed once, with what one worker alone produces.
TEST_F(StreamOwnership, ANewOwnerRebuildsTheStagesAndGivesWhatOneWorkerGives) {
  auto redis = connect();
  publish(redis, "ref", 30);
  publish(redis, "cam", 30);
  std::atomic<bool> stop{false};
  {
    auto processor = ordered_processor("ref");
    FrameWorker(redis, *processor, ordered_worker("solo")).run(stop);
  }
  {
    auto processor = ordered_processor("cam");
    auto wo = ordered_worker("first");
    wo.max_frames = 10;
    FrameWorker worker(redis, *processor, wo);
    worker.run(stop);
    EXPECT_EQ(worker.stats_json()["became_owner"], 1);
  }
  auto committed = reply_integer(redis.command({"XLEN", stage_log_key("cam", "tally")}).get());
  EXPECT_GE(committed, 10);
  redis.command({"SET", lease_key("cam", "workers"), "dead", "PX", "500"});
  auto taken = parse_read_reply(redis
                                    .command({"XREADGROUP", "GROUP", "workers", "dead", "COUNT", "5",
                                              "STREAMS", frames_key("cam"), ">"})
                                    .get());
  ASSERT_EQ(taken.size(), 5u);
  auto processor = ordered_processor("cam");
  FrameWorker third(redis, *processor, ordered_worker("third"));
  third.run(stop);
  auto stats = third.stats_json();
  EXPECT_EQ(stats["replayed"], committed) << stats;
  EXPECT_EQ(stats["claimed"], 5) << stats;
  EXPECT_EQ(stats["processed"], 30 - committed) << stats;
  EXPECT_EQ(stats["already_done"], 0) << stats;
  EXPECT_EQ(stats["owner"], false) << stats;  // released when it stopped
  MetricFamilies families;
  add_worker_metrics(families, stats, "cam");
  add_bus_stream_metrics(families, stream_stats_json(redis, "cam"));
  auto metrics = families.text();
  EXPECT_NE(
      metrics.find("sightflow_worker_replayed_total{stream=\"cam\",group=\"workers\",consumer=\"third\"} " +
                   std::to_string(committed)),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("sightflow_worker_owner{stream=\"cam\",group=\"workers\",consumer=\"third\"} 0"),
            std::string::npos)
      << metrics;

  size_t entries = 0;
  auto expected = results(redis, "ref");
  ASSERT_EQ(expected.size(), 30u);
  EXPECT_EQ(expected.rbegin()->second["tally"], 30);  // 0+1+2 per three frames
  EXPECT_EQ(results(redis, "cam", &entries), expected);
  EXPECT_EQ(entries, 30u);  // none twice
  EXPECT_EQ(reply_integer(redis.command({"XLEN", stage_log_key("cam", "tally")}).get()), 30);
  auto groups = read_groups(redis, frames_key("cam"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].pending, 0);
}

}  // namespace
}  // namespace sf
