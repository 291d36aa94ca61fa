// The pipeline's scheduling, backpressure, dropping and latency, with synthetic sources and algorithms.
#include "sightflow/pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "infer/model_batcher.hpp"
#include "sightflow/algorithm.hpp"

using namespace sf;

namespace {

// Frames of a given size at a fixed rate; File kind, so real-time mode paces it at `fps`.
class SyntheticSource : public Source {
 public:
  SyntheticSource(int64_t frames, double fps, SourceKind kind = SourceKind::File, int64_t throw_at = -1)
      : frames_(frames), fps_(fps), kind_(kind), throw_at_(throw_at) {}
  std::optional<Frame> read() override {
    if (next_ == throw_at_) throw SourceError("synthetic: corrupt packet at frame " + std::to_string(next_));
    if (next_ >= frames_ || interrupted_) return std::nullopt;
    Frame f;
    f.stream = "synthetic";
    f.seq = next_;
    f.pts = double(next_) / fps_;
    f.wall_ts = unix_now();
    f.image = cv::Mat(48, 64, CV_8UC3, cv::Scalar(double(next_ % 255), 0, 0));
    ++next_;
    return f;
  }
  void interrupt() override { interrupted_ = true; }
  SourceKind kind() const override { return kind_; }
  double fps() const override { return fps_; }
  int64_t frame_count_hint() const override { return frames_; }
  int64_t frames_skipped() const override { return 0; }
  int64_t reconnects() const override { return 0; }

 private:
  int64_t frames_, next_ = 0;
  double fps_;
  SourceKind kind_;
  int64_t throw_at_;
  std::atomic<bool> interrupted_{false};
};

// Sleeps to simulate inference and reports the frame sequence numbers it got.
class SlowAlgorithm : public Algorithm {
 public:
  explicit SlowAlgorithm(double seconds) : seconds_(seconds) {}
  AlgorithmOutput run(std::span<const Frame> frames, StageTimes& times) override {
    Stopwatch w;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds_));
    times.model = w.seconds();
    AlgorithmOutput out;
    for (const auto& f : frames) out.values["seqs"].push_back(f.seq);
    // The frame's blue channel encodes its sequence number: prove the image travelled with it.
    out.values["blue"] = frames.back().image.at<cv::Vec3b>(0, 0)[0];
    return out;
  }

 private:
  double seconds_;
};

class CollectingSink : public Sink {
 public:
  void write(const Result& r) override {
    std::lock_guard lock(mutex);
    results.push_back(r);
    latencies.push_back(unix_now() - r.capture_ts);
    written.notify_all();
  }
  void close() override { closed = true; }
  // Waits until `n` results were written; false after a minute (a hang, not a slow machine).
  bool wait_for_results(size_t n) {
    std::unique_lock lock(mutex);
    return written.wait_for(lock, std::chrono::minutes(1), [&] { return results.size() >= n; });
  }
  std::mutex mutex;
  std::condition_variable written;
  std::vector<Result> results;
  std::vector<double> latencies;
  bool closed = false;
};

}  // namespace

TEST(Pipeline, OfflineRunsEverySchedulledRunInOrderWithoutDrops) {
  Pipeline p({.mode = Mode::Offline, .offline_queue = 2});
  p.add_stream(std::make_unique<SyntheticSource>(60, 1000), "cam");
  p.add_algorithm("every", [] { return std::make_unique<SlowAlgorithm>(0.002); });
  p.add_algorithm("step5", [] { return std::make_unique<SlowAlgorithm>(0.0); }, {2, 5, 0});
  auto sink = std::make_shared<CollectingSink>();
  p.add_sink(sink);
  p.run();
  EXPECT_TRUE(sink->closed);
  std::vector<int64_t> every, step5;
  for (const auto& r : sink->results) {
    (r.algo == "every" ? every : step5).push_back(r.frame);
    EXPECT_EQ(r.values["blue"].get<int>(), int(r.frame % 255));
  }
  ASSERT_EQ(every.size(), 60u);
  for (size_t i = 0; i < every.size(); ++i) EXPECT_EQ(every[i], int64_t(i));
  EXPECT_EQ(step5, (std::vector<int64_t>{5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55}));
  auto algos = p.metrics().algorithms(steady_now());
  EXPECT_EQ((algos[{"cam", "every"}].runs_dropped), 0);
  EXPECT_EQ((algos[{"cam", "every"}].runs), 60);
}

TEST(Pipeline, RealtimeDropsWhatItCannotServeAndLatencyStaysFlat) {
  // 50 fps source for 4 s, an algorithm that needs 60 ms: at most 1 run in 3 can be served. Every bound
  // below holds on a loaded machine (CI runs ctest -j2 on two cores, and under ASan): pacing and the
  // algorithm only ever wait, load only makes them later.
  Pipeline p({.mode = Mode::Realtime});
  p.add_stream(std::make_unique<SyntheticSource>(200, 50), "cam");
  p.add_algorithm("slow", [] { return std::make_unique<SlowAlgorithm>(0.06); });
  auto sink = std::make_shared<CollectingSink>();
  p.add_sink(sink);
  Stopwatch wall;
  p.run();
  const double seconds = wall.seconds();
  // Paced at the source's clock: frame 199 is due 3.98 s after frame 0, not "as fast as possible". The
  // upper bound only catches a hang; how fast a run goes belongs in bench/.
  EXPECT_GE(seconds, 199.0 / 50);
  EXPECT_LT(seconds, 120.0);
  auto a = p.metrics().algorithms(steady_now())[{"cam", "slow"}];
  EXPECT_EQ(a.runs + a.runs_dropped, 200);
  // One worker sleeps 60 ms a run, so it served at most seconds / 0.06 runs; the others were dropped
  // rather than queued (a blocking queue would drop none).
  EXPECT_LE(a.runs, int64_t(seconds / 0.06) + 1);
  EXPECT_GT(a.runs_dropped, 0);
  ASSERT_GT(sink->latencies.size(), 20u);
  // Latency is bounded by queue depth 1: about two runs (0.12 s). A queue that kept every run would fall
  // 2 s behind for every 3 s played (a backlog of 2 runs in 3 frames), about 5 s by the last quarter. The
  // median of each quarter stands a few late wake-ups; 1.5 s is what load may add, far below that growth.
  size_t q = sink->latencies.size() / 4;
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  const double first = median({sink->latencies.begin(), sink->latencies.begin() + q});
  const double last = median({sink->latencies.end() - q, sink->latencies.end()});
  EXPECT_LT(first, 1.5);
  EXPECT_LT(last, 1.5);
  // Frames come out in increasing order even though many were skipped.
  for (size_t i = 1; i < sink->results.size(); ++i)
    EXPECT_GT(sink->results[i].frame, sink->results[i - 1].frame);
}

TEST(Pipeline, OfflineKeepsEveryRunEvenWhenInferenceIsSlow) {
  Pipeline p({.mode = Mode::Offline});
  p.add_stream(std::make_unique<SyntheticSource>(30, 50), "cam");
  p.add_algorithm("slow", [] { return std::make_unique<SlowAlgorithm>(0.01); });
  auto sink = std::make_shared<CollectingSink>();
  p.add_sink(sink);
  p.run();
  EXPECT_EQ(sink->results.size(), 30u);
}

TEST(Pipeline, SourceErrorKeepsEarlierResultsAndIsReported) {
  Pipeline p;
  p.add_stream(std::make_unique<SyntheticSource>(100, 1000, SourceKind::File, 25), "cam");
  p.add_algorithm("a", [] { return std::make_unique<SlowAlgorithm>(0); });
  auto sink = std::make_shared<CollectingSink>();
  p.add_sink(sink);
  p.start();
  try {
    p.wait();
    FAIL() << "expected the source error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt packet at frame 25"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cam"), std::string::npos);
  }
  EXPECT_EQ(sink->results.size(), 25u);
  EXPECT_TRUE(sink->closed);
}

TEST(Pipeline, StopEndsAnEndlessSource) {
  Pipeline p({.mode = Mode::Realtime});
  p.add_stream(
      std::make_unique<SyntheticSource>(std::numeric_limits<int64_t>::max(), 100, SourceKind::Network),
      "live");
  p.add_algorithm("a", [] { return std::make_unique<SlowAlgorithm>(0); });
  auto sink = std::make_shared<CollectingSink>();
  p.add_sink(sink);
  p.start();
  ASSERT_TRUE(sink->wait_for_results(1));
  // The source never ends by itself: without stop(), wait() would not return (ctest's timeout would fail
  // the test), however long it took on a loaded machine.
  p.stop();
  p.wait();
  EXPECT_TRUE(sink->closed);
}

TEST(Pipeline, ConfigurationMistakesAreRejectedBeforeStarting) {
  {
    Pipeline p;
    p.add_algorithm("a", [] { return std::make_unique<SlowAlgorithm>(0); });
    EXPECT_THROW(p.start(), std::invalid_argument);  // no stream
  }
  {
    Pipeline p;
    p.add_stream(std::make_unique<SyntheticSource>(1, 10), "cam");
    p.add_algorithm("a", [] { return std::make_unique<SlowAlgorithm>(0); }, {}, {"other"});
    EXPECT_THROW(p.start(), std::invalid_argument);  // unknown stream
  }
  {
    Pipeline p;
    EXPECT_THROW(p.add_algorithm("a", [] { return std::make_unique<SlowAlgorithm>(0); }, {1, 0, 0}),
                 std::invalid_argument);
  }
}

namespace {

// A shared model that needs `seconds` per pass of one image (max_batch 1), like a network at its limit.
class SleepyModel : public Model {
 public:
  explicit SleepyModel(double seconds) : seconds_(seconds) { info_.name = "sleepy"; }
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes*) override {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds_ * double(images.size())));
    return std::vector<ModelOutput>(images.size());
  }

 private:
  ModelInfo info_;
  double seconds_;
};

}  // namespace

TEST(Pipeline, RealtimeStreamsSharingAnOverloadedModelEachGetTheirShare) {
  // Four cameras at 25 fps for 4 s on one model that serves 50 passes/s: half of the frames can be
  // served. The batcher's queue is first come, first served, so no stream starves another.
  constexpr int kStreams = 4, kFrames = 100;
  Pipeline p({.mode = Mode::Realtime});
  for (int i = 0; i < kStreams; ++i)
    p.add_stream(std::make_unique<SyntheticSource>(kFrames, 25), "cam" + std::to_string(i));
  auto batcher = std::make_shared<ModelBatcher>(std::make_unique<SleepyModel>(0.02), BatchOptions{1, 5});
  p.add_algorithm("people", [batcher] { return std::make_unique<DetectorAlgorithm>(batcher->client()); });
  auto sink = std::make_shared<CollectingSink>();
  p.add_sink(sink);
  p.run();
  auto algos = p.metrics().algorithms(steady_now());
  double total = 0;
  for (int i = 0; i < kStreams; ++i) total += double(algos[{"cam" + std::to_string(i), "people"}].runs);
  const double mean = total / kStreams;
  ASSERT_GT(mean, 10);
  for (int i = 0; i < kStreams; ++i) {
    auto a = algos[{"cam" + std::to_string(i), "people"}];
    EXPECT_EQ(a.runs + a.runs_dropped, kFrames) << "cam" << i;  // every frame either served or counted
    EXPECT_GT(a.runs_dropped, 0) << "cam" << i;                 // drops are counted where they happen
    // Its share: within a third of the mean (round robin gives each the same, give or take the edges).
    EXPECT_GT(double(a.runs), mean * 2 / 3) << "cam" << i;
    EXPECT_LT(double(a.runs), mean * 4 / 3) << "cam" << i;
  }
  // Latency stays flat: a frame waits for at most one pass per stream ahead of it, not for a growing
  // queue, so the last quarter of results is not later than the first quarter by more than a pass round.
  ASSERT_GT(sink->latencies.size(), 40u);
  size_t q = sink->latencies.size() / 4;
  double first = 0, last = 0;
  for (size_t i = 0; i < q; ++i) first += sink->latencies[i] / double(q);
  for (size_t i = sink->latencies.size() - q; i < sink->latencies.size(); ++i)
    last += sink->latencies[i] / double(q);
  EXPECT_LT(last, first + 0.5) << "mean latency grew from " << first << " s to " << last << " s";
}

TEST(Pipeline, RealtimeStreamsChooseTheirFrameWhenTheModelHasRoomForIt) {
  // Twelve cameras at 10 fps on one model that serves 40 passes/s (a third of the frames). Were a frame
  // chosen when its stream queued, it would wait for the eleven other streams' passes (12 x 25 ms) on
  // top of its age. A stream waits for its turn first and then takes its newest frame, so a result is
  // about its frame's age (< 100 ms) plus one or two passes old.
  constexpr int kStreams = 12, kFrames = 30;
  constexpr double kPass = 0.025;
  Pipeline p({.mode = Mode::Realtime});
  for (int i = 0; i < kStreams; ++i)
    p.add_stream(std::make_unique<SyntheticSource>(kFrames, 10), "cam" + std::to_string(i));
  auto batcher = std::make_shared<ModelBatcher>(std::make_unique<SleepyModel>(kPass), BatchOptions{1, 5});
  p.add_algorithm("people", [batcher] { return std::make_unique<DetectorAlgorithm>(batcher->client()); });
  auto sink = std::make_shared<CollectingSink>();
  p.add_sink(sink);
  p.run();
  auto algos = p.metrics().algorithms(steady_now());
  for (int i = 0; i < kStreams; ++i) {
    auto a = algos[{"cam" + std::to_string(i), "people"}];
    EXPECT_EQ(a.runs + a.runs_dropped, kFrames) << "cam" << i;  // every frame either served or counted
    EXPECT_GT(a.runs, 2) << "cam" << i;                         // turns go round: nobody starves
  }
  ASSERT_GT(sink->latencies.size(), 60u);
  std::vector<double> v = sink->latencies;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  // A full round of the other streams' passes alone is 12 x 25 = 300 ms; load may add some to each.
  EXPECT_LT(v[v.size() / 2], kStreams * kPass * 0.7) << "median latency";
}
