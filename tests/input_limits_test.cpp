// Numbers from outside (flags, YAML, model parameters) are checked against a limit before anything uses
// them: a frame size that crashed swscale, a network input that asked for 30 GB, .inf in a config file,
// a source that was never reachable. Each is an error naming the option and its range, never a crash or a
// run that never ends. A job whose every run failed exits non-zero.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>

#include "sightflow/config.hpp"
#include "sightflow/model.hpp"
#include "sightflow/motion.hpp"
#include "sightflow/schedule.hpp"
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

TEST(InputLimits, ModelParametersAreBoundedWhereTheyAreRead) {
  // input=100000 asked OpenCV for 30 GB on every run.
  auto input = error_of([] { create_model("yolo-fastest-body", {{"input", "100000"}}); });
  EXPECT_NE(input.find("parameter 'input' must be SIZE or WIDTHxHEIGHT with sides in [16, 2048]"),
            std::string::npos)
      << input;
  // Sizes YOLO heads cannot join failed every forward pass ("Inconsistent shape for ConcatLayer").
  auto stride = error_of([] { create_model("yolox-nano", {{"input", "100"}}); });
  EXPECT_NE(stride.find("parameter 'input' must be a multiple of 32"), std::string::npos) << stride;
  auto top_k = error_of([] { create_model("mobilenetv2", {{"top_k", "1e20"}}); });
  EXPECT_NE(top_k.find("parameter 'top_k' must be in [1, 1000]"), std::string::npos) << top_k;
  auto stride_hog = error_of([] { create_model("hog", {{"win_stride", "1e20"}}); });
  EXPECT_NE(stride_hog.find("parameter 'win_stride' must be in [8, 512]"), std::string::npos) << stride_hog;
  auto nan = error_of([] { create_model("hog", {{"upscale", "nan"}}); });
  EXPECT_NE(nan.find("parameter 'upscale' must be a finite number"), std::string::npos) << nan;
  auto neighbours = error_of([] { create_model("haar-face", {{"min_neighbors", "3.5"}}); });
  EXPECT_NE(neighbours.find("parameter 'min_neighbors' must be a whole number"), std::string::npos)
      << neighbours;
  auto batch = error_of([] { ModelPool().acquire("hog", {{"max_batch", "1e12"}}); });
  EXPECT_NE(batch.find("parameter 'max_batch' must be in [0, 1024]"), std::string::npos) << batch;
  EXPECT_NO_THROW(create_model("yolox-nano", {{"input", "416x320"}, {"top_k", "5"}}));
}

TEST(InputLimits, SchedulesAndMotionOptionsAreBounded) {
  auto frames = error_of([] { validate(Schedule{100000, 1, 0}); });
  EXPECT_NE(frames.find("frame_count must be in [1, 64]"), std::string::npos) << frames;
  auto interval = error_of([] { validate(Schedule{1, 1, std::nan("")}); });
  EXPECT_NE(interval.find("interval must be a number >= 0"), std::string::npos) << interval;
  MotionOptions motion;
  auto blur = error_of([&] { set_motion_option(motion, "blur", "1e12"); });
  EXPECT_NE(blur.find("motion option blur: expected a whole number in [0, 255]"), std::string::npos) << blur;
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

// A catalog entry that does not match its network (a head left out): every run throws in the decoder.
TEST(RunExitStatus, EveryRunFailedExitsFour) {
  test::TempDir dir;
  std::ofstream(dir / "catalog.yaml") << R"(models:
  mismatched:
    description: YOLOX-nano without its stride-32 head
    task: detection
    format: onnx
    files:
      - role: model
        path: yolox-nano/yolox_nano.onnx
        sha256: d39bee73564e338080378b0ad567fbb40e818b55bbfaf971de82a0267ed16b8a
    input: [320, 320]
    preprocess: {resize: letterbox}
    decoder: yolox
    decoder_options: {strides: [8, 16]}
    classes: [person]
    max_batch: 1
    thresholds: {score: 0.4, nms: 0.45}
)";
  std::string out;
  const auto summary = (dir / "summary.json").string();
  int rc = run_command({test::sightflow_bin(), "run", "--catalog", (dir / "catalog.yaml").string(),
                        "--source", test::vtest_path(), "--detector", "mismatched", "--max-frames", "3",
                        "--no-progress", "--out", (dir / "r.jsonl").string(), "--summary-json", summary},
                       &out, 120);
  EXPECT_EQ(rc, 4) << out;
  EXPECT_NE(out.find("sightflow: error: every run failed (3 run(s) of mismatched on vtest"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("3 failed"), std::string::npos) << out;  // the summary line
  EXPECT_TRUE(test::read_jsonl(dir / "r.jsonl").empty());
  auto j = nlohmann::json::parse(test::read_file(summary));
  EXPECT_EQ(j["streams"]["vtest"]["algorithms"]["mismatched"]["runs_failed"], 3);
  EXPECT_EQ(j["streams"]["vtest"]["algorithms"]["mismatched"]["runs"], 0);
}

}  // namespace
}  // namespace sf
