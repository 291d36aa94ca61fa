// `sightflow capture` and `sightflow worker` as separate processes over a real redis-server (AOF on): every
// frame of vtest.avi gets exactly one result with two workers, with one worker killed by SIGKILL mid-run,
// and across a restart of the server.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "redis_server.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

constexpr const char* kDetector = "yolo-fastest-body";

struct BusRun {
  test::TempDir dir;
  test::RedisServer redis;
  std::string db = (dir / "results.db").string();

  std::vector<std::string> capture(int64_t frames) const {
    return {test::sightflow_bin(),
            "capture",
            "--redis",
            redis.url(),
            "--stream",
            "cam",
            "--max-frames",
            std::to_string(frames),
            "--maxlen",
            "150",
            "--spill-dir",
            (dir / "spill").string(),
            "--summary-json",
            (dir / "capture.json").string()};
  }
  std::vector<std::string> worker(const std::string& name) const {
    return {test::sightflow_bin(),
            "--threads",
            "1",
            "worker",
            "--redis",
            redis.url(),
            "--stream",
            "cam",
            "--consumer",
            name,
            "--detector",
            kDetector,
            "--db",
            db,
            "--idle-exit",
            "4",
            "--claim-idle",
            "2",
            "--claim-interval",
            "1",
            "--summary-json",
            (dir / (name + ".json")).string()};
  }
  std::string log(const std::string& name) const { return (dir / (name + ".log")).string(); }
  nlohmann::json summary(const std::string& name) const {
    return nlohmann::json::parse(test::read_file(dir / (name + ".json")));
  }
  // count(*), count(DISTINCT frame), min(frame), max(frame) of the stored results.
  std::vector<nlohmann::json> result_rows() const {
    return open_store(db)
        ->query("SELECT count(*), count(DISTINCT frame), min(frame), max(frame) FROM results")
        .rows.at(0);
  }
  int64_t stored() const {
    try {
      return open_store(db)->query("SELECT count(*) FROM results").rows.at(0).at(0).get<int64_t>();
    } catch (const std::exception&) {
      return 0;  // not created yet
    }
  }
  void wait_for_stored(int64_t n) const {
    for (int i = 0; i < 1200 && stored() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_GE(stored(), n);
  }
};

TEST(BusCli, CaptureAndTwoWorkersGiveEveryFrameExactlyOneResult) {
  BusRun run;
  test::ChildProcess a(run.worker("a"), "/dev/null", run.log("a"));
  test::ChildProcess b(run.worker("b"), "/dev/null", run.log("b"));
  test::ChildProcess capture(run.capture(795), "/dev/null", run.log("capture"));
  ASSERT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
  ASSERT_EQ(a.wait_exit(300), 0) << test::read_file(run.log("a"));
  ASSERT_EQ(b.wait_exit(300), 0) << test::read_file(run.log("b"));
  EXPECT_EQ(run.result_rows(), (std::vector<nlohmann::json>{795, 795, 0, 794}));
  // The group shared the work, and the small MAXLEN made capture wait instead of trimming unread frames.
  auto sa = run.summary("a"), sb = run.summary("b"), sc = run.summary("capture");
  EXPECT_GT(sa["processed"].get<int64_t>(), 50) << sa;
  EXPECT_GT(sb["processed"].get<int64_t>(), 50) << sb;
  EXPECT_EQ(sa["processed"].get<int64_t>() + sb["processed"].get<int64_t>(), 795);
  EXPECT_EQ(sc["published"], 795);
  EXPECT_EQ(sc["trimmed_unread"], 0);
  EXPECT_GT(sc["backpressure_wait_s"].get<double>(), 0);
  auto bus = sb["bus"];
  EXPECT_EQ(bus["groups"][0]["pending"], 0) << bus;
  EXPECT_EQ(bus["groups"][0]["lag"], 0) << bus;
}

TEST(BusCli, AWorkerKilledMidRunLeavesNoFrameWithoutExactlyOneResult) {
  BusRun run;
  test::ChildProcess doomed(run.worker("doomed"), "/dev/null", run.log("doomed"));
  test::ChildProcess capture(run.capture(400), "/dev/null", run.log("capture"));
  run.wait_for_stored(60);
  ::kill(doomed.pid(), SIGKILL);
  doomed.wait_exit(10);
  test::ChildProcess survivor(run.worker("survivor"), "/dev/null", run.log("survivor"));
  ASSERT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
  ASSERT_EQ(survivor.wait_exit(300), 0) << test::read_file(run.log("survivor"));
  EXPECT_EQ(run.result_rows(), (std::vector<nlohmann::json>{400, 400, 0, 399}));
  auto s = run.summary("survivor");
  EXPECT_GT(s["claimed"].get<int64_t>(), 0) << s;  // the dead worker's pending entries
  EXPECT_EQ(s["bus"]["groups"][0]["pending"], 0) << s;
}

TEST(BusCli, CaptureAndWorkerRideOutARestartOfRedis) {
  BusRun run;
  test::ChildProcess worker(run.worker("w"), "/dev/null", run.log("w"));
  test::ChildProcess capture(run.capture(400), "/dev/null", run.log("capture"));
  run.wait_for_stored(80);
  run.redis.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  run.redis.start();
  ASSERT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
  ASSERT_EQ(worker.wait_exit(300), 0) << test::read_file(run.log("w"));
  EXPECT_EQ(run.result_rows(), (std::vector<nlohmann::json>{400, 400, 0, 399}));
  EXPECT_GE(run.summary("capture")["reconnects"].get<int64_t>(), 1);
  EXPECT_GE(run.summary("w")["reconnects"].get<int64_t>(), 1);
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

TEST(BusCli, BadInputGetsAClearError) {
  std::string out;
  auto bin = test::sightflow_bin();
  int port = test::free_tcp_port();  // nothing listens there
  EXPECT_EQ(test::run_command({bin, "worker", "--redis", "redis://127.0.0.1:" + std::to_string(port),
                               "--stream", "x", "--detector", "none", "--give-up", "1"},
                              &out),
            1);
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
  EXPECT_NE(out.find("gave up after"), std::string::npos) << out;
  EXPECT_EQ(test::run_command({bin, "worker", "--redis", "http://127.0.0.1", "--stream", "x"}, &out), 1);
  EXPECT_NE(out.find("Redis URL must start with redis://"), std::string::npos) << out;
  EXPECT_EQ(test::run_command({bin, "capture", "--source", "/no/such/video.mp4", "--stream", "x"}, &out), 1);
  EXPECT_NE(out.find("/no/such/video.mp4"), std::string::npos) << out;
  EXPECT_EQ(test::run_command({bin, "replay", "--stream", "x", "--detector", "none"}, &out), 1);
  EXPECT_NE(out.find("replay needs --algo-name"), std::string::npos) << out;
  EXPECT_EQ(
      test::run_command({bin, "replay", "--stream", "x", "--algo-name", "y", "--from", "last week"}, &out),
      1);
  EXPECT_NE(out.find("'last week' is not a stream ID"), std::string::npos) << out;
}

}  // namespace
}  // namespace sf
