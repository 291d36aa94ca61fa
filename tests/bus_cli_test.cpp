// `sightflow capture` and `sightflow worker` as separate processes over a real redis-server (AOF on): every
// frame of vtest.avi gets exactly one result with two workers, with one worker killed by SIGKILL mid-run,
// and across a restart of the server; with tracking, a line and a zone, several workers (one of them
// killed mid-run) give the same tracks, counts and events as one worker.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "bus/redis_connection.hpp"
#include "bus/stream_entry.hpp"
#include "bus/stream_keys.hpp"
#include "redis_server.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

constexpr const char* kDetector = "yolo-fastest-body";

struct BusRun {
  explicit BusRun(test::RedisServer::Persistence persistence = test::RedisServer::Persistence::Aof)
      : redis(persistence) {}
  test::TempDir dir;
  test::RedisServer redis;
  std::string db = (dir / "results.db").string();

  // `group`: the consumer group capture makes if it is missing and watches for backpressure (--group).
  std::vector<std::string> capture(int64_t frames, const std::string& group = "") const {
    std::vector<std::string> args = {test::sightflow_bin(),
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
    if (!group.empty()) args.insert(args.end(), {"--group", group});
    return args;
  }
  std::vector<std::string> worker(const std::string& name) const {
    // A sanitized worker on a loaded host can hold an entry for seconds: claimed from a live worker, it
    // would be processed twice (results stay single, the processed counts do not).
    const std::string claim_idle = test::sanitized_build() ? "10" : "2";
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
            claim_idle,
            "--claim-interval",
            "1",
            "--summary-json",
            (dir / (name + ".json")).string()};
  }
  // A worker that tracks, counts a line across the walkway and a zone over the left half.
  // `short_lease`: for the tests that kill the owner, so that a standby takes over soon. Otherwise 6 s: a
  // worker on a loaded host (or sanitized) can stall past a short lease, and its stream then changes hands.
  std::vector<std::string> staged_worker(const std::string& name, bool short_lease = false) const {
    auto args = worker(name);
    const char* lease = short_lease && !test::sanitized_build() ? "1.5" : "6";
    for (const char* a : {"--track", "--line", "walkway=0,300,768,300", "--zone",
                          "left=0,0,384,0,384,576,0,576", "--lease", lease})
      args.emplace_back(a);
    return args;
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
  // What the stages produced, in the store: every event, and every detection with its track id.
  std::vector<std::vector<nlohmann::json>> events() const {
    return open_store(db)
        ->query(
            "SELECT frame, type, name, track_id, label, direction, dwell FROM events"
            " ORDER BY frame, type, name, track_id")
        .rows;
  }
  std::vector<std::vector<nlohmann::json>> tracked_detections() const {
    return open_store(db)
        ->query("SELECT frame, label, score, x, y, w, h, track_id FROM detections ORDER BY frame, x, y, w")
        .rows;
  }
  // frame -> the "lines" and "zones" of its entry in sf:results:cam; `entries` counts them all.
  std::map<int64_t, nlohmann::json> published_counts(size_t& entries) const {
    RedisConnection redis(parse_redis_url(this->redis.url()));
    auto list = parse_entries(redis.command({"XRANGE", results_key("cam"), "-", "+"}).get());
    entries = list.size();
    std::map<int64_t, nlohmann::json> out;
    for (const auto& e : list) {
      auto json = nlohmann::json::parse(*e.field("json"));
      out[json["frame"].get<int64_t>()] = {json["lines"], json["zones"],
                                           json.value("events", nlohmann::json())};
    }
    for (auto& [frame, value] : out)
      for (auto& event : value[2]) event.erase("ts");
    return out;
  }
  // Entries the consumer has read and not acknowledged yet.
  size_t pending_of(const std::string& consumer) const {
    RedisConnection redis(parse_redis_url(this->redis.url()));
    auto reply = redis.command({"XPENDING", frames_key("cam"), "workers", "-", "+", "1000", consumer});
    return reply.get()->elements;
  }
  void wait_for_stored(int64_t n) const {
    for (int i = 0; i < 1200 && stored() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_GE(stored(), n);
  }
};

TEST(BusCli, CaptureAndTwoWorkersGiveEveryFrameExactlyOneResult) {
  BusRun run;
  // All of vtest.avi; under a sanitizer 300 frames, still twice the MAXLEN, so that capture waits.
  const int64_t frames = test::sanitized_build() ? 300 : 795;
  test::ChildProcess a(run.worker("a"), "/dev/null", run.log("a"));
  test::ChildProcess b(run.worker("b"), "/dev/null", run.log("b"));
  test::ChildProcess capture(run.capture(frames), "/dev/null", run.log("capture"));
  ASSERT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
  ASSERT_EQ(a.wait_exit(300), 0) << test::read_file(run.log("a"));
  ASSERT_EQ(b.wait_exit(300), 0) << test::read_file(run.log("b"));
  EXPECT_EQ(run.result_rows(), (std::vector<nlohmann::json>{frames, frames, 0, frames - 1}));
  // The group shared the work, and the small MAXLEN made capture wait instead of trimming unread frames.
  auto sa = run.summary("a"), sb = run.summary("b"), sc = run.summary("capture");
  EXPECT_GT(sa["processed"].get<int64_t>(), 50) << sa;
  EXPECT_GT(sb["processed"].get<int64_t>(), 50) << sb;
  EXPECT_EQ(sa["processed"].get<int64_t>() + sb["processed"].get<int64_t>(), frames);
  EXPECT_EQ(sc["published"], frames);
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
  // Killed while it holds read, unacknowledged entries (on a loaded host it may be waiting for frames
  // with none): those are what the survivor must claim.
  for (int i = 0; i < 4000 && run.pending_of("doomed") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
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

// `worker --metrics` as Prometheus scrapes it while the worker runs: its counters, its stream's bus state,
// its algorithm's stage times and store writes, the build and process metrics, all accepted by promtool.
TEST(BusCli, AWorkersMetricsPageDescribesItsWorkAndPassesPromtool) {
  BusRun run;
  int port = test::free_tcp_port();
  auto args = run.worker("m");
  for (const char* a : {"--metrics", "127.0.0.1:"}) args.emplace_back(a);
  args.back() += std::to_string(port);
  test::ChildProcess worker(args, "/dev/null", run.log("m"));
  test::ChildProcess capture(run.capture(40), "/dev/null", run.log("capture"));
  httplib::Client client("127.0.0.1", port);
  std::string text;
  auto value = [&](const std::string& series) {
    auto at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size() + 2));
  };
  const std::string worker_labels = "{stream=\"cam\",group=\"workers\",consumer=\"m\"}";
  const std::string algo_labels = "{stream=\"cam\",algo=\"" + std::string(kDetector) + "\"";
  // A batch counts as processed before its results are stored and timed: wait for all three.
  auto done = [&] {
    return value("sightflow_worker_processed_total" + worker_labels) >= 10 &&
           value("sightflow_runs_total" + algo_labels + "}") >= 10 &&
           value("sightflow_results_stored_total") >= 10;
  };
  for (int i = 0; i < 600 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto res = client.Get("/metrics");
    if (!res) continue;
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4");
    text = res->body;
  }
  ASSERT_TRUE(done()) << text << test::read_file(run.log("m"));
  EXPECT_GE(value("sightflow_stage_seconds_count" + algo_labels + ",stage=\"model\"}"), 10);
  EXPECT_GE(value("sightflow_result_latency_seconds_count" + algo_labels + "}"), 10);
  EXPECT_GE(value("sightflow_bus_stream_length{stream=\"cam\"}"), 1);
  EXPECT_GT(value("process_resident_memory_bytes"), 0);
  EXPECT_NE(text.find("\nsightflow_build_info{"), std::string::npos);
  EXPECT_EQ(test::promtool_problems(text), "");
  ASSERT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
  ASSERT_EQ(worker.wait_exit(300), 0) << test::read_file(run.log("m"));
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

// Without persistence a restarted Redis comes back without the stream and its group: the worker used to
// exit on NOGROUP, capture never made the group again and reported the lost frames as trimmed unread.
// Capture names the group (--group), so it makes it again at its first frame after the restart and keeps
// waiting for it: nothing is trimmed unread however long the worker takes to reconnect. (Without --group
// capture has no group to wait for until the worker makes one, and a slow worker - sanitized, on a loaded
// host - then really does lose frames to MAXLEN, counted as trimmed unread.)
TEST(BusCli, AfterARestartWithoutPersistenceBothGoOnAndCaptureCountsWhatWasLost) {
  BusRun run(test::RedisServer::Persistence::None);
  test::ChildProcess worker(run.worker("w"), "/dev/null", run.log("w"));
  test::ChildProcess capture(run.capture(400, "workers"), "/dev/null", run.log("capture"));
  run.wait_for_stored(80);
  run.redis.stop();
  run.redis.start();
  ASSERT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
  ASSERT_EQ(worker.wait_exit(300), 0) << test::read_file(run.log("w"));
  auto c = run.summary("capture"), w = run.summary("w");
  EXPECT_EQ(c["published"], 400) << c;
  EXPECT_EQ(c["trimmed_unread"], 0) << c;
  const auto lost = c["lost"].get<int64_t>();
  EXPECT_GT(lost, 0) << c;
  // Every frame published after the restart has a result; a frame without one is among the lost.
  auto rows = run.result_rows();
  EXPECT_EQ(rows[0], rows[1]);
  EXPECT_EQ(rows[3], 399);
  EXPECT_LE(400 - rows[1].get<int64_t>(), lost) << c;
  EXPECT_GE(w["reconnects"].get<int64_t>(), 1) << w;
  auto group = w["bus"]["groups"].at(0);
  EXPECT_EQ(group["group"], "workers") << w;
  EXPECT_EQ(group["pending"], 0) << w;
  EXPECT_EQ(group["lag"], 0) << w;
  EXPECT_NE(test::read_file(run.log("capture")).find("Redis came back without"), std::string::npos);
}

// `redis-cli XADD ... path /etc/passwd`: the worker neither opens the file nor quotes it.
TEST(BusCli, AWorkerDeadLettersAFrameNamingAFileOutsideItsSpillFolder) {
  BusRun run;
  RedisConnection redis(parse_redis_url(run.redis.url()));
  redis.command({"XADD", frames_key("cam"), "*", "seq", "1", "pts", "0", "ts", "0", "width", "768", "height",
                 "576", "enc", "jpeg", "path", "/etc/passwd"});
  const auto spill = run.dir / "spill";
  std::string out;
  ASSERT_EQ(test::run_command({test::sightflow_bin(), "worker", "--redis", run.redis.url(), "--stream", "cam",
                               "--detector", "none", "--idle-exit", "0.5", "--spill-dir", spill.string()},
                              &out),
            0)
      << out;
  auto dead = parse_entries(redis.command({"XRANGE", dead_letter_key("cam"), "-", "+"}).get());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(*dead[0].field("reason"), "path: /etc/passwd is outside the spill folder " + spill.string());
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

namespace sf {
namespace {

constexpr int64_t kStagedFrames = 200;

// One worker alone: the reference the groups below must reproduce.
struct StagedReference {
  BusRun run;
  StagedReference() {
    test::ChildProcess solo(run.staged_worker("solo"), "/dev/null", run.log("solo"));
    test::ChildProcess capture(run.capture(kStagedFrames), "/dev/null", run.log("capture"));
    EXPECT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
    EXPECT_EQ(solo.wait_exit(300), 0) << test::read_file(run.log("solo"));
  }
};

void expect_same_stage_output(const BusRun& run, const BusRun& reference) {
  EXPECT_EQ(run.result_rows(),
            (std::vector<nlohmann::json>{kStagedFrames, kStagedFrames, 0, kStagedFrames - 1}));
  auto events = reference.events();
  std::set<std::string> types;
  for (const auto& e : events) types.insert(e[1].get<std::string>());
  EXPECT_TRUE(types.count("line") && types.count("enter") && types.count("exit")) << events.size();
  EXPECT_EQ(run.events(), events);
  EXPECT_EQ(run.tracked_detections(), reference.tracked_detections());
  size_t entries = 0, reference_entries = 0;
  EXPECT_EQ(run.published_counts(entries), reference.published_counts(reference_entries));
  EXPECT_EQ(entries, size_t(kStagedFrames));  // each result published once
  EXPECT_EQ(reference_entries, size_t(kStagedFrames));
}

TEST(BusCli, ThreeWorkersTrackCountAndRaiseEventsAsOneWorkerDoes) {
  StagedReference reference;
  BusRun run;
  std::map<std::string, std::unique_ptr<test::ChildProcess>> workers;
  for (const char* name : {"a", "b", "c"})
    workers[name] = std::make_unique<test::ChildProcess>(run.staged_worker(name), "/dev/null", run.log(name));
  test::ChildProcess capture(run.capture(kStagedFrames), "/dev/null", run.log("capture"));
  ASSERT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
  for (auto& [name, worker] : workers) ASSERT_EQ(worker->wait_exit(300), 0) << test::read_file(run.log(name));
  expect_same_stage_output(run, reference.run);
  int64_t processed = 0, owners = 0;
  for (const char* name : {"a", "b", "c"}) {
    auto s = run.summary(name);
    processed += s["processed"].get<int64_t>();
    owners += s["became_owner"].get<int64_t>();
  }
  EXPECT_EQ(processed, kStagedFrames);
  EXPECT_EQ(owners, 1);  // one owner from start to end; the others stood by
}

TEST(BusCli, AnOwnerKilledMidRunLosesNoEventAndDoublesNone) {
  StagedReference reference;
  BusRun run;
  std::map<std::string, std::unique_ptr<test::ChildProcess>> workers;
  for (const char* name : {"a", "b"})
    workers[name] =
        std::make_unique<test::ChildProcess>(run.staged_worker(name, true), "/dev/null", run.log(name));
  test::ChildProcess capture(run.capture(kStagedFrames), "/dev/null", run.log("capture"));
  run.wait_for_stored(60);
  std::string owner;
  {
    RedisConnection redis(parse_redis_url(run.redis.url()));
    owner = reply_string(redis.command({"GET", lease_key("cam", "workers")}).get());
  }
  ASSERT_EQ(workers.count(owner), 1u) << owner;
  ::kill(workers[owner]->pid(), SIGKILL);
  workers[owner]->wait_exit(10);
  std::string survivor = owner == "a" ? "b" : "a";
  ASSERT_EQ(capture.wait_exit(300), 0) << test::read_file(run.log("capture"));
  ASSERT_EQ(workers[survivor]->wait_exit(300), 0) << test::read_file(run.log(survivor));
  expect_same_stage_output(run, reference.run);
  auto s = run.summary(survivor);
  EXPECT_EQ(s["became_owner"], 1) << s;
  EXPECT_GE(s["replayed"].get<int64_t>(), 50) << s;  // the stages rebuilt from the dead owner's log
  EXPECT_LE(s["processed"].get<int64_t>(), kStagedFrames - 50) << s;
  EXPECT_EQ(s["bus"]["groups"][0]["pending"], 0) << s;
}

}  // namespace
}  // namespace sf
