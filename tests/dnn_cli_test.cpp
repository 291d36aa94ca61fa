// The DNN models through the `sightflow` binary as a user runs them: run, eval, bench and models.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/videoio.hpp>

#include "test_support.hpp"

using namespace sf;
using sf::test::last_json_line;
using sf::test::read_jsonl;
using sf::test::run_command;

namespace {

const std::string kData = "/usr/share/doc/opencv-doc/examples/data/";

struct RunCase {
  std::string detector;
  std::string source;
  std::string expected_label;  // a detection (or the top classification label) with this label
  bool classification = false;
};

class EveryModel : public ::testing::TestWithParam<RunCase> {};

std::string eval_gt() { return test::shared_dir() + "/eval/pets09-s2l1/gt.txt"; }

}  // namespace

TEST_P(EveryModel, RunsThroughSightflowRun) {
  const auto& c = GetParam();
  test::TempDir dir;
  std::string out;
  int rc = run_command({test::sightflow_bin(), "run", "--source", c.source, "--detector", c.detector,
                        "--max-frames", "3", "--out", (dir / "r.jsonl").string(), "--no-progress"},
                       &out);
  ASSERT_EQ(rc, 0) << out;
  auto results = read_jsonl(dir / "r.jsonl");
  ASSERT_FALSE(results.empty()) << out;
  EXPECT_LE(results.size(), 3u);
  bool found = false;
  for (const auto& r : results) {
    EXPECT_EQ(r["algo"], c.detector);
    if (c.classification) {
      ASSERT_TRUE(r.contains("labels")) << r;
      ASSERT_EQ(r["labels"].size(), 5u) << r;
      EXPECT_TRUE(r["labels"][0].contains("score"));
      found = found || r["labels"][0]["label"].get<std::string>().rfind(c.expected_label, 0) == 0;
    } else {
      for (const auto& d : r["detections"]) found = found || d["label"] == c.expected_label;
      EXPECT_EQ(r["count"], r["detections"].size());
    }
  }
  EXPECT_TRUE(found) << c.detector << " found no " << c.expected_label << " in " << c.source;
}

INSTANTIATE_TEST_SUITE_P(Catalog, EveryModel,
                         ::testing::Values(RunCase{"yolox-nano", test::vtest_path(), "person"},
                                           RunCase{"yolo-fastest", test::vtest_path(), "person"},
                                           RunCase{"yolo-fastest-xl", test::vtest_path(), "person"},
                                           RunCase{"yolo-fastest-body", test::vtest_path(), "person"},
                                           RunCase{"yunet", kData + "messi5.jpg", "face"},
                                           RunCase{"res10-face", kData + "messi5.jpg", "face"},
                                           RunCase{"mobilenetv2", kData + "squirrel_cls.jpg", "fox squirrel",
                                                   true}),
                         [](const auto& info) {
                           std::string n = info.param.detector;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(EvalCommand, YoloxNanoReachesItsPublishedAccuracyOnEveryFifthFrame) {
  std::string out;
  int rc = run_command({test::sightflow_bin(), "eval", "--source", test::vtest_path(), "--gt", eval_gt(),
                        "--detector", "yolox-nano", "--every", "5", "--iou", "0.5", "--json"},
                       &out);
  ASSERT_EQ(rc, 0) << out;
  auto j = last_json_line(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  for (const char* key : {"precision", "recall", "ap50", "count_mae", "fps", "frames"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["frames"], 159);  // 795 frames, every 5th
  EXPECT_GE(j["precision"].get<double>(), 0.85) << out;
  EXPECT_GE(j["recall"].get<double>(), 0.88) << out;
  EXPECT_GT(j["ap50"].get<double>(), 0.8) << out;
  EXPECT_LT(j["count_mae"].get<double>(), 1.5) << out;
  EXPECT_GT(j["fps"].get<double>(), 0) << out;
}

TEST(EvalCommand, BadInputsAreNamed) {
  std::string out;
  EXPECT_NE(run_command({test::sightflow_bin(), "eval", "--gt", "/nonexistent/gt.txt", "--detector", "hog",
                         "--max-frames", "2"},
                        &out),
            0);
  EXPECT_NE(out.find("/nonexistent/gt.txt"), std::string::npos) << out;
  EXPECT_NE(run_command({test::sightflow_bin(), "eval", "--gt", eval_gt(), "--detector", "yolo9000"}, &out),
            0);
  EXPECT_NE(out.find("yolox-nano"), std::string::npos) << "the error lists the known detectors: " << out;
}

TEST(BenchCommand, ReportsModelAndPipelineRatesAndTheirRatio) {
  std::string out;
  int rc = run_command({test::sightflow_bin(), "bench", "--detector", "yolo-fastest", "--frames", "20",
                        "--iterations", "5", "--rounds", "1", "--json"},
                       &out);
  ASSERT_EQ(rc, 0) << out;
  auto j = last_json_line(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  double model = j["model_fps"], pipeline = j["pipeline_fps"], ratio = j["ratio"];
  EXPECT_GT(model, 0);
  EXPECT_GT(pipeline, 0);
  // Speed itself belongs to bench/dnn_bench.sh. What is certain: with one round, the model rate is the mean
  // of the two measurements around the pipeline run and the ratio is the pipeline rate over that mean.
  EXPECT_NEAR(ratio, pipeline / model, 1e-9 * ratio) << out;
}

TEST(BenchCommand, BatchesAcrossStreamsWhenTheModelAllowsIt) {
  std::string out;
  int rc = run_command(
      {test::sightflow_bin(), "bench", "--detector", "yolo-fastest", "--frames", "10", "--iterations", "2",
       "--rounds", "1", "--streams", "2", "--param", "max_batch=2", "--param", "max_delay_ms=10000"},
      &out);
  ASSERT_EQ(rc, 0) << out;
  // With 10 s of delay a pass leaves when both streams' workers wait (or the batch is full, the same here),
  // not when a timer runs out, so every pass carries both streams' frames however loaded the machine. How
  // much batching gains under a short delay is a speed question: bench/dnn_bench.sh measures it.
  auto at = out.find("images per pass");
  ASSERT_NE(at, std::string::npos) << out;
  double per_pass = std::stod(out.substr(out.rfind(',', at) + 1));
  EXPECT_EQ(per_pass, 2.0) << out;
}

TEST(ModelsCommand, ListsTheCatalogWithFileStates) {
  std::string out;
  ASSERT_EQ(run_command({test::sightflow_bin(), "models", "--json", "--check"}, &out), 0) << out;
  auto j = last_json_line(out);
  ASSERT_FALSE(j.is_discarded()) << out;
  std::set<std::string> names;
  for (const auto& m : j["models"]) {
    names.insert(m["name"].get<std::string>());
    EXPECT_TRUE(m["files_ok"].get<bool>()) << m;
  }
  for (const char* n : {"hog", "yolox-nano", "yolo-fastest", "yolo-fastest-xl", "yolo-fastest-body", "yunet",
                        "res10-face", "mobilenetv2"})
    EXPECT_TRUE(names.count(n)) << n;

  test::TempDir empty;
  ASSERT_EQ(
      run_command({test::sightflow_bin(), "models", "--models", empty.path().string(), "--check"}, &out), 3)
      << out;
  EXPECT_NE(out.find("yolox-nano/yolox_nano.onnx: missing"), std::string::npos) << out;
  EXPECT_NE(out.find("dog-qiuqiu/Yolo-Fastest"), std::string::npos) << "says where files come from: " << out;
}

TEST(RunCommand, AMissingModelIsAClearErrorBeforeAnyFrameIsRead) {
  test::TempDir empty;
  std::string out;
  int rc = run_command({test::sightflow_bin(), "run", "--detector", "yolox-nano", "--models",
                        empty.path().string(), "--out", (empty / "r.jsonl").string(), "--no-progress"},
                       &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("yolox-nano/yolox_nano.onnx not found"), std::string::npos) << out;
  EXPECT_EQ(out.find("frames read"), std::string::npos) << out;
}

TEST(RunCommand, TheDnnExampleConfigRunsEveryAlgorithmOnItsStreams) {
  test::TempDir dir;
  std::string out;
  int rc = run_command({test::sightflow_bin(), "run", "--config",
                        SIGHTFLOW_SOURCE_DIR "/examples/people-and-faces.yaml", "--max-frames", "25", "--out",
                        (dir / "r.jsonl").string(), "--video-out", (dir / "v.mkv").string(), "--no-progress"},
                       &out);
  ASSERT_EQ(rc, 0) << out;
  std::map<std::pair<std::string, std::string>, int> runs;
  for (const auto& r : read_jsonl(dir / "r.jsonl")) {
    runs[{r["stream"], r["algo"]}]++;
    if (r["algo"] == "people") {
      for (const auto& d : r["detections"]) EXPECT_EQ(d["label"], "person");
    }
    if (r["algo"] == "scene") {
      EXPECT_EQ(r["labels"].size(), 3u);
    }
  }
  EXPECT_EQ((runs[{"street", "people"}]), 25);
  EXPECT_EQ((runs[{"film", "faces"}]), 25);
  EXPECT_EQ(runs.count({"street", "faces"}), 0u);
  // Every 2 s of media time: vtest.avi (10 fps) at frames 0 and 20; Megamind.avi (23.976 fps) only at
  // frame 0, its 25th frame being at 1.0 s.
  EXPECT_EQ((runs[{"street", "scene"}]), 2);
  EXPECT_EQ((runs[{"film", "scene"}]), 1);
  // One annotated video per stream, named after it, each with the stream's 25 frames at its size.
  const std::pair<const char*, cv::Size> videos[] = {{"street", {768, 576}}, {"film", {720, 528}}};
  for (const auto& [stream, size] : videos) {
    const auto video = dir / ("v." + std::string(stream) + ".mkv");
    cv::VideoCapture capture(video.string());
    ASSERT_TRUE(capture.isOpened()) << video;
    int frames = 0;
    cv::Mat frame;
    while (capture.read(frame)) {
      EXPECT_EQ(frame.size(), size) << video;
      ++frames;
    }
    EXPECT_EQ(frames, 25) << video;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "v.mkv"));
}
