// The code paths of the long CLI tests (eval with tracking and lines, motion eval, dataset capture, tune,
// run --profile) on a few frames of vtest.avi: short enough for the sanitizer phases of scripts/test.sh,
// which leave out the long tests that assert the figures of the whole video.
#include <gtest/gtest.h>

#include "sightflow/camera_profile.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

std::string pets_gt() { return test::shared_dir() + "/eval/pets09-s2l1/gt.txt"; }

nlohmann::json eval_json(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::sightflow_bin(), "eval", "--gt", pets_gt(), "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string output;
  EXPECT_EQ(test::run_command(argv, &output), 0) << output;
  auto j = test::last_json_line(output);
  EXPECT_FALSE(j.is_discarded()) << output;
  return j;
}

TEST(ShortInputs, EvalTracksAndCountsLineCrossingsOnTwentyFrames) {
  auto j = eval_json(
      {"--detector", "yolox-nano", "--max-frames", "20", "--track", "--line", "h300=0,300,768,300"});
  ASSERT_TRUE(j.contains("tracking") && j.contains("lines")) << j.dump();
  EXPECT_EQ(j["tracking"]["frames"], 20);
  for (const char* key : {"in", "out", "truth_in", "truth_out"})
    EXPECT_TRUE(j["lines"]["h300"].contains(key)) << key << ": " << j.dump();
  EXPECT_GT(j["recall"].get<double>(), 0.5) << j.dump();  // the first frames show several people
}

TEST(ShortInputs, MotionRoiEvalInfersCropsOfTenFrames) {
  auto j =
      eval_json({"--detector", "yolo-fastest-body", "--every", "5", "--max-frames", "50", "--motion", "roi"});
  EXPECT_EQ(j["motion"], "roi");
  EXPECT_EQ(j["frames"], 10);  // frames 0, 5, ..., 45
  ASSERT_TRUE(j.contains("recall_small")) << j.dump();
  // Crops, not whole frames: the counted pixels differ from frames x frame size.
  EXPECT_NE(j["pixels_inferred"], 10 * 768 * 576);
}

TEST(ShortInputs, CaptureTuneAndRunWithTheProfile) {
  test::TempDir dir;
  std::string output;
  ASSERT_EQ(test::run_command({test::sightflow_bin(), "dataset", "capture", "--source", test::vtest_path(),
                               "--reference-model", "yolox-nano", "--every", "5", "--max-frames", "60",
                               "--classes", "person", "--format", "yolo", "--out", (dir / "ds").string()},
                              &output),
            0)
      << output;
  ASSERT_EQ(test::run_command({test::sightflow_bin(), "tune", "--dataset", (dir / "ds").string(), "--model",
                               "yolo-fastest-body", "--out", (dir / "profile.json").string(), "--json"},
                              &output),
            0)
      << output;
  auto report = test::last_json_line(output);
  ASSERT_TRUE(report.contains("f1_after")) << output;
  EXPECT_EQ(report["tuning_images"].get<int>() + report["heldout_images"].get<int>(), 12) << output;

  auto profile = load_camera_profile((dir / "profile.json").string());
  ASSERT_EQ(test::run_command({test::sightflow_bin(), "run", "--source", test::vtest_path(), "--detector",
                               "yolo-fastest-body", "--profile", (dir / "profile.json").string(),
                               "--max-frames", "5", "--out", (dir / "out.jsonl").string(), "--no-progress"},
                              &output),
            0)
      << output;
  auto rows = test::read_jsonl(dir / "out.jsonl");
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows)
    for (const auto& d : row["detections"])
      EXPECT_GE(d["score"].get<float>(), profile.thresholds.at("person") - 1e-6f);
}

}  // namespace
}  // namespace sf
