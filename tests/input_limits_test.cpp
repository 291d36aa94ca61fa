// Numbers from outside (flags, YAML) are checked against a limit before anything uses them: a frame size
// that crashed swscale, .inf in a config file, a source that was never reachable. Each is an error naming
// the option and its range, never a crash or a run that never ends.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>

#include "sightflow/config.hpp"
#include "sightflow/source.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

using test::run_command;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string write_config(const test::TempDir& dir, const std::string& yaml) {
  auto path = (dir / "cfg.yaml").string();
  std::ofstream(path) << yaml;
  return path;
}

TEST(InputLimits, ResizePastTheLimitIsRefusedInsteadOfCrashing) {
  test::TempDir dir;
  std::string out;
  // This size made swscale write out of bounds: exit 139.
  int rc = run_command({test::sightflow_bin(), "run", "--source", test::vtest_path(), "--resize", "32768x0",
                        "--max-frames", "1", "--no-progress", "--out", (dir / "r.jsonl").string()},
                       &out, 120);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("--resize: width must be in [0, 8192]"), std::string::npos) << out;
}

TEST(InputLimits, ConfigWidthPastTheLimitNamesItsLine) {
  test::TempDir dir;
  auto config = write_config(dir, "streams:\n  - source: " + test::vtest_path() +
                                      "\n    width: 100000\nalgorithms:\n  - detector: hog\n");
  std::string out;
  int rc = run_command(
      {test::sightflow_bin(), "run", "--config", config, "--max-frames", "1", "--no-progress"}, &out, 120);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("cfg.yaml:3: streams[0].width: must be in [0, 8192]"), std::string::npos) << out;
}

TEST(InputLimits, ASideComputedFromTheAspectRatioIsCheckedToo) {
  test::TempDir dir;
  // 10 x 1000 resized to width 100 keeps the aspect ratio: 100 x 10000, past the limit.
  ASSERT_TRUE(cv::imwrite((dir / "tall.png").string(), cv::Mat(1000, 10, CV_8UC3, cv::Scalar(0, 0, 255))));
  SourceOptions options;
  options.width = 100;
  auto message = error_of([&] {
    auto source = open_source((dir / "tall.png").string(), options);
    source->read();
  });
  EXPECT_NE(message.find("resized to 100x10000 exceeds the limit of 8192"), std::string::npos) << message;
}

TEST(InputLimits, InfAndNanInYamlKeepTheirFileAndLine) {
  const std::string head = "streams:\n  - source: a.mp4\n";
  auto fps =
      error_of([&] { parse_run_config(head + "    fps: .inf\nalgorithms: [{detector: hog}]\n", "c.yaml"); });
  EXPECT_NE(fps.find("c.yaml:3: streams[0].fps: expected a finite number, got '.inf'"), std::string::npos)
      << fps;
  auto interval = error_of(
      [&] { parse_run_config(head + "algorithms:\n  - detector: hog\n    interval: .nan\n", "c.yaml"); });
  EXPECT_NE(interval.find("c.yaml:5: algorithms[0].interval: expected a finite number"), std::string::npos)
      << interval;
  auto reconnect = error_of([&] {
    parse_run_config(head + "    reconnect_max: -.inf\nalgorithms: [{detector: hog}]\n", "c.yaml");
  });
  EXPECT_NE(reconnect.find("c.yaml:3: streams[0].reconnect_max"), std::string::npos) << reconnect;
}

TEST(InputLimits, SourceOptionsFromAConfigNameTheirLine) {
  const std::string head = "streams:\n  - source: rtsp://cam/x\n";
  auto threads = error_of([&] {
    parse_run_config(head + "    decode_threads: 100000\nalgorithms: [{detector: hog}]\n", "c.yaml");
  });
  EXPECT_NE(threads.find("c.yaml:3: streams[0].decode_threads: must be in [0, 64]"), std::string::npos)
      << threads;
  auto timeout =
      error_of([&] { parse_run_config(head + "    timeout: 0\nalgorithms: [{detector: hog}]\n", "c.yaml"); });
  EXPECT_NE(timeout.find("c.yaml:3: streams[0].timeout: must be in (0, 86400]"), std::string::npos)
      << timeout;
}

TEST(InputLimits, StopAtEndGivesUpOnASourceThatWasNeverReachable) {
  test::TempDir dir;
  // Nobody listens: connection refused, retried with back-off (0.5 s here), and before the fix forever.
  auto config =
      write_config(dir, "streams:\n  - source: tcp://127.0.0.1:" + std::to_string(test::free_tcp_port()) +
                            "\n    stop_at_end: true\n    reconnect_max: 0.5\n"
                            "algorithms:\n  - detector: hog\n");
  std::string out;
  int rc = run_command({test::sightflow_bin(), "run", "--config", config, "--no-progress"}, &out, 60);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("cannot open tcp://127.0.0.1"), std::string::npos) << out;
  EXPECT_NE(out.find("Connection refused"), std::string::npos) << out;
}

TEST(InputLimits, MaxReconnectsIsAFlagToo) {
  std::string out;
  int rc = run_command(
      {test::sightflow_bin(), "run", "--source", "tcp://127.0.0.1:" + std::to_string(test::free_tcp_port()),
       "--max-reconnects", "0", "--no-progress"},
      &out, 60);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("Connection refused"), std::string::npos) << out;
}

}  // namespace
}  // namespace sf
