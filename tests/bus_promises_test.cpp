// What docs/BUS.md promises of the Redis bus, checked against real redis-servers: the password and database
// of a redis:// URL (AUTH, SELECT), a server still loading its data waited for, `sightflow replay` end to
// end, `worker --max-age`, an algorithm or store error leaving its batch pending (not dead-lettered), and
// sightflow_bus_dead_letters on a worker's /metrics.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "bus/frame_processor.hpp"
#include "bus/frame_publisher.hpp"
#include "bus/frame_worker.hpp"
#include "bus/group_info.hpp"
#include "bus/redis_connection.hpp"
#include "bus/stream_keys.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

// A redis-server started with the test's own flags (no persistence unless asked), in a folder of its own.
class PlainRedis {
 public:
  explicit PlainRedis(std::vector<std::string> flags = {}, std::string password = "")
      : password_(std::move(password)), port_(test::free_tcp_port()), flags_(std::move(flags)) {
    start();
  }
  void start(const std::vector<std::string>& more = {}) {
    std::vector<std::string> argv{
        "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_.path(),
        "--save",       "",       "--appendonly",        "no"};
    if (!password_.empty()) argv.insert(argv.end(), {"--requirepass", password_});
    argv.insert(argv.end(), flags_.begin(), flags_.end());
    argv.insert(argv.end(), more.begin(), more.end());
    process_ = std::make_unique<test::ChildProcess>(argv, (dir_ / "redis.log").string(), "/dev/null");
    for (int i = 0; i < 100 && cli({"PING"}).find("PONG") == std::string::npos &&
                    cli({"PING"}).find("LOADING") == std::string::npos;
         ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Saves the data set to dump.rdb and stops: the next start() loads it.
  void save_and_stop() {
    cli({"SAVE"});
    cli({"SHUTDOWN", "NOSAVE"});
    process_->wait_exit(30);
  }
  // redis-cli's answer, independent of the code under test.
  std::string cli(std::vector<std::string> args, int db = 0) const {
    std::vector<std::string> argv{"redis-cli", "-p", std::to_string(port_), "-n", std::to_string(db)};
    if (!password_.empty()) argv.insert(argv.end(), {"--no-auth-warning", "-a", password_});
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    test::run_command(argv, &out, 30);
    return out;
  }
  int64_t integer(std::vector<std::string> args, int db = 0) const {
    auto out = cli(std::move(args), db);
    try {
      return std::stoll(out);
    } catch (const std::exception&) {
      return -1;
    }
  }
  std::string url(int db = 0) const {
    return "redis://" + (password_.empty() ? "" : ":" + password_ + "@") +
           "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }

 private:
  test::TempDir dir_;
  std::string password_;
  int port_;
  std::vector<std::string> flags_;
  std::unique_ptr<test::ChildProcess> process_;
};

int run_sightflow(std::vector<std::string> args, std::string* output) {
  args.insert(args.begin(), test::sightflow_bin());
  return test::run_command(args, output, 120);
}

std::vector<std::string> capture_args(const std::string& url, int frames) {
  return {"capture", "--redis", url, "--stream", "cam", "--max-frames", std::to_string(frames)};
}

// Capture, a worker and a replay against a server that wants a password, on database 3: everything lands
// in database 3, nothing in database 0, and the replay stores the retained frames again under a new name.
TEST(BusPromises, PasswordAndDatabaseOfTheUrlAreUsedAndReplayStoresEveryRetainedFrame) {
  PlainRedis redis({}, "s3cret");
  test::TempDir dir;
  const std::string db = (dir / "results.db").string();
  std::string out;
  ASSERT_EQ(run_sightflow(capture_args(redis.url(3), 4), &out), 0) << out;
  ASSERT_EQ(run_sightflow({"worker", "--redis", redis.url(3), "--stream", "cam", "--detector", "none", "--db",
                           db, "--max-frames", "4", "--stats-interval", "0"},
                          &out),
            0)
      << out;
  ASSERT_EQ(run_sightflow({"replay", "--redis", redis.url(3), "--stream", "cam", "--detector", "none",
                           "--algo-name", "again", "--db", db},
                          &out),
            0)
      << out;
  EXPECT_EQ(redis.integer({"XLEN", "sf:frames:cam"}, 3), 4);
  EXPECT_EQ(redis.integer({"XLEN", "sf:results:cam"}, 3), 8);
  EXPECT_EQ(redis.integer({"DBSIZE"}, 0), 0);
  auto stored = open_store(db)->query(
      "SELECT algo, count(*), min(frame), max(frame) FROM results GROUP BY algo ORDER BY algo");
  ASSERT_EQ(stored.rows.size(), 2u);
  EXPECT_EQ(stored.rows[0], (std::vector<nlohmann::json>{"again", 4, 0, 3}));
  EXPECT_EQ(stored.rows[1], (std::vector<nlohmann::json>{"none", 4, 0, 3}));

  // Without the password the server refuses, and the tool says so instead of hanging.
  std::string refused, no_password = redis.url(3);
  no_password.replace(no_password.find(":s3cret@"), 8, "");
  EXPECT_NE(
      run_sightflow({"capture", "--redis", no_password, "--stream", "cam", "--max-frames", "1"}, &refused),
      0);
  EXPECT_NE(refused.find("NOAUTH"), std::string::npos) << refused;
}

// A server reading its data back (slowed down: 8000 keys, 0.5 ms each: 4 s, ample time for capture to start)
// answers LOADING; capture waits for it instead of failing, says so, and publishes every frame.
TEST(BusPromises, AServerStillLoadingItsDataIsWaitedFor) {
  PlainRedis redis({"--dbfilename", "dump.rdb"});
  redis.cli({"EVAL", "for i = 1, 8000 do redis.call('SET', 'k' .. i, i) end", "0"});
  ASSERT_EQ(redis.integer({"DBSIZE"}), 8000);
  redis.save_and_stop();
  redis.start({"--key-load-delay", "500", "--loading-process-events-interval-bytes", "1024"});
  ASSERT_NE(redis.cli({"PING"}).find("LOADING"), std::string::npos) << "the server must still be loading";
  std::string out;
  ASSERT_EQ(run_sightflow(capture_args(redis.url(), 3), &out), 0) << out;
  EXPECT_NE(out.find("is loading its data; waiting"), std::string::npos) << out;
  EXPECT_EQ(redis.integer({"XLEN", "sf:frames:cam"}), 3);
  EXPECT_EQ(redis.integer({"DBSIZE"}), 8001);
}

// Frames captured longer ago than --max-age are acknowledged and counted as skipped_old, not analysed.
TEST(BusPromises, AWorkerSkipsFramesOlderThanMaxAge) {
  PlainRedis redis;
  test::TempDir dir;
  std::string out;
  ASSERT_EQ(run_sightflow(capture_args(redis.url(), 3), &out), 0) << out;
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // the frames are now over 1 s old
  ASSERT_EQ(
      run_sightflow({"worker", "--redis", redis.url(), "--stream", "cam", "--detector", "none", "--max-age",
                     "1", "--max-frames", "3", "--summary-json", (dir / "w.json").string()},
                    &out),
      0)
      << out;
  auto summary = nlohmann::json::parse(test::read_file(dir / "w.json"));
  EXPECT_EQ(summary["skipped_old"], 3) << summary;
  EXPECT_EQ(summary["processed"], 0) << summary;
  EXPECT_EQ(redis.integer({"XLEN", "sf:results:cam"}), 0);
  EXPECT_EQ(redis.integer({"XPENDING", "sf:frames:cam", "workers"}), 0) << "acknowledged";
}

// A store that refuses the results (a trigger of the test's own) stops the worker with the error; the batch
// stays pending for another worker and nothing is dead-lettered or published.
TEST(BusPromises, AStoreErrorStopsTheWorkerAndLeavesItsBatchPending) {
  PlainRedis redis;
  test::TempDir dir;
  const std::string db = (dir / "results.db").string();
  open_store(db);  // today's schema
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(
          handle,
          "CREATE TRIGGER refuse BEFORE INSERT ON results BEGIN SELECT RAISE(ABORT, 'store says no'); END",
          nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(handle);
  std::string out;
  ASSERT_EQ(run_sightflow(capture_args(redis.url(), 3), &out), 0) << out;
  EXPECT_NE(run_sightflow({"worker", "--redis", redis.url(), "--stream", "cam", "--detector", "none", "--db",
                           db, "--consumer", "w1", "--batch", "4", "--idle-exit", "1"},
                          &out),
            0);
  EXPECT_NE(out.find("store says no"), std::string::npos) << out;
  EXPECT_EQ(redis.integer({"XPENDING", "sf:frames:cam", "workers"}), 3) << "the batch of all 3 frames";
  EXPECT_EQ(redis.integer({"XLEN", "sf:results:cam"}), 0);
  EXPECT_EQ(redis.integer({"EXISTS", "sf:dead:cam"}), 0);
}

// An algorithm that throws: the worker stops with its error, the batch stays pending, nothing is
// dead-lettered (the message is not at fault).
class FailsFromSeq2 : public Algorithm {
 public:
  AlgorithmOutput run(std::span<const Frame> frames, StageTimes&) override {
    if (frames.back().seq >= 2) throw std::runtime_error("the model broke");
    return {};
  }
};

TEST(BusPromises, AnAlgorithmErrorStopsTheWorkerAndLeavesItsBatchPending) {
  PlainRedis redis;
  RedisConnection connection(parse_redis_url(redis.url()));
  PublisherOptions publish;
  publish.stream = "cam";
  FramePublisher publisher(connection, publish);
  for (int64_t seq = 0; seq < 4; ++seq) {
    Frame f;
    f.seq = seq;
    f.pts = double(seq);
    f.wall_ts = unix_now();
    f.image = cv::Mat(48, 64, CV_8UC3, cv::Scalar(10, 20, 30));
    publisher.publish(f);
  }
  FrameProcessor processor(std::make_unique<FailsFromSeq2>(), nullptr, {"cam", "fails"});
  WorkerOptions options;
  options.consumer = "w1";
  options.batch = 2;
  options.idle_exit_s = 0.3;
  options.block_s = 0.1;
  FrameWorker worker(connection, processor, options);
  try {
    worker.run(std::atomic<bool>{false});
    FAIL() << "the algorithm's error must stop the worker";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("the model broke"), std::string::npos) << e.what();
  }
  auto groups = read_groups(connection, frames_key("cam"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].pending, 2) << "the second batch (seq 2, 3) waits for another worker";
  EXPECT_EQ(redis.integer({"XPENDING", "sf:frames:cam", "workers"}), 2);
  EXPECT_EQ(redis.integer({"XLEN", "sf:results:cam"}), 2);  // the first batch's
  EXPECT_EQ(redis.integer({"EXISTS", "sf:dead:cam"}), 0);
}

// A message that is no frame is dead-lettered, and the worker's page says so per stream.
TEST(BusPromises, AWorkersMetricsCountTheStreamsDeadLetters) {
  PlainRedis redis;
  redis.cli({"XADD", "sf:frames:cam", "*", "garbage", "yes"});
  const int port = test::free_tcp_port();
  test::TempDir dir;
  test::ChildProcess worker({test::sightflow_bin(), "worker", "--redis", redis.url(), "--stream", "cam",
                             "--detector", "none", "--metrics", "127.0.0.1:" + std::to_string(port)},
                            "/dev/null", (dir / "worker.log").string());
  httplib::Client client("127.0.0.1", port);
  std::string text;
  const std::string series = "sightflow_bus_dead_letters{stream=\"cam\"}";
  for (int i = 0; i < 300 && text.find("\n" + series + " 1\n") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (auto res = client.Get("/metrics"); res && res->status == 200) text = res->body;
  }
  EXPECT_NE(text.find("\n" + series + " 1\n"), std::string::npos)
      << text << test::read_file(dir / "worker.log");
  EXPECT_NE(text.find("# TYPE sightflow_bus_dead_letters gauge"), std::string::npos);
  EXPECT_EQ(test::promtool_problems(text), "");
  EXPECT_EQ(redis.integer({"XLEN", "sf:dead:cam"}), 1);
}

}  // namespace
}  // namespace sf
