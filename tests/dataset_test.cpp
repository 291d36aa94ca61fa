// Datasets (dataset capture) and camera profiles (tune, run --profile): written, read back, applied.
#include "dataset/dataset.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgproc.hpp>

#include "sightflow/camera_profile.hpp"
#include "sightflow/config.hpp"
#include "test_support.hpp"

using namespace sf;
using sf::test::last_json_line;
using sf::test::run_command;

namespace {

Result result_with(int64_t frame, std::vector<Detection> detections) {
  Result r;
  r.stream = "cam";
  r.frame = frame;
  r.pts = 0.1 * double(frame);
  r.image = cv::Mat(240, 320, CV_8UC3, cv::Scalar(40, 80, 120));
  r.detections = std::move(detections);
  return r;
}

Detection box(const std::string& label, int id, float x, float y, float w, float h, float score = 0.8f) {
  return {label, id, score, {x, y, w, h}, {}};
}

// Three frames: two people and a car, nothing, one person.
void write_sample(const std::filesystem::path& dir, DatasetFormat format) {
  DatasetInfo info;
  info.dir = dir;
  info.format = format;
  info.class_names = {"person", "bicycle", "car"};
  info.manifest_fields = {{"source", "test"}, {"reference_model", "hand"}};
  auto sink = make_dataset_sink(info);
  sink->write(result_with(0, {box("person", 0, 10, 20, 30, 60), box("car", 2, 100, 100, 80, 40)}));
  sink->write(result_with(5, {}));
  sink->write(result_with(10, {box("person", 0, 200, 50, 20, 50, 0.6f)}));
  sink->close();
}

nlohmann::json read_json(const std::filesystem::path& path) {
  return nlohmann::json::parse(test::read_file(path));
}

}  // namespace

TEST(Dataset, YoloExportLoadsBack) {
  test::TempDir dir;
  write_sample(dir.path(), DatasetFormat::Yolo);
  // The layout YOLO trainers expect: one label file per image, normalised centre and size.
  EXPECT_TRUE(std::filesystem::exists(dir / "images/000000.jpg"));
  EXPECT_EQ(test::read_file(dir / "labels/000005.txt"), "");  // a negative image keeps an empty label file
  std::istringstream lines(test::read_file(dir / "labels/000000.txt"));
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    int id;
    float v[4];
    ASSERT_TRUE(fields >> id >> v[0] >> v[1] >> v[2] >> v[3]) << line;
    for (float x : v) EXPECT_TRUE(x >= 0 && x <= 1) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(test::read_file(dir / "classes.txt"), "person\nbicycle\ncar\n");
  auto manifest = read_json(dir / "manifest.json");
  EXPECT_EQ(manifest["counts"]["person"], 2);
  EXPECT_EQ(manifest["counts"]["car"], 1);
  EXPECT_EQ(manifest["image_count"], 3);
  EXPECT_EQ(manifest["reference_model"], "hand");
  EXPECT_TRUE(manifest.contains("created"));

  auto d = load_dataset(dir.path());
  ASSERT_EQ(d.images.size(), 3u);
  EXPECT_EQ(d.images[2].frame, 10);
  ASSERT_EQ(d.images[0].boxes.size(), 2u);
  EXPECT_EQ(d.images[0].boxes[1].label, "car");
  EXPECT_NEAR(d.images[0].boxes[1].box.x, 100, 0.01);
  EXPECT_NEAR(d.images[0].boxes[1].box.height, 40, 0.01);
  EXPECT_TRUE(d.images[1].boxes.empty());
}

Detection tracked(int64_t id, float x, float score = 0.8f) {
  Detection d = box("person", 0, x, 40, 20, 60, score);
  d.track_id = id;
  return d;
}

// Tracked labels: a track missed on up to fill_gaps images between two sightings gets boxes there,
// interpolated; a longer gap stays empty; a held prediction (score 0) is written but is no sighting; the
// manifest says per image where its boxes came from.
TEST(Dataset, TrackGapsUpToTheLimitAreFilledByInterpolation) {
  test::TempDir dir;
  DatasetInfo info;
  info.dir = dir.path();
  info.class_names = {"person"};
  info.fill_gaps = 2;
  auto sink = make_dataset_sink(info);
  sink->write(result_with(0, {tracked(1, 0), tracked(2, 200)}));
  sink->write(result_with(1, {}));
  sink->write(result_with(2, {tracked(2, 200, 0)}));  // held by the tracker, not seen
  sink->write(result_with(3, {tracked(1, 30)}));      // 1: seen again after 2 images: filled
  sink->write(result_with(4, {tracked(2, 240)}));     // 2: seen again after 3 images: too long
  sink->close();

  auto d = load_dataset(dir.path());
  ASSERT_EQ(d.images.size(), 5u);
  // Track 1 moved 30 px over 3 images: 10 px an image.
  ASSERT_EQ(d.images[1].boxes.size(), 1u);
  EXPECT_NEAR(d.images[1].boxes[0].box.x, 10, 0.01);
  EXPECT_NEAR(d.images[1].boxes[0].box.height, 60, 0.01);
  ASSERT_EQ(d.images[2].boxes.size(), 2u);  // the held box of 2, and 1 filled in
  EXPECT_NEAR(d.images[2].boxes[0].box.x, 200, 0.01);
  EXPECT_NEAR(d.images[2].boxes[1].box.x, 20, 0.01);
  EXPECT_EQ(d.images[3].boxes.size(), 1u);
  EXPECT_EQ(d.images[4].boxes.size(), 1u);

  auto manifest = read_json(dir / "manifest.json");
  EXPECT_EQ(manifest["filled_count"], 2);
  EXPECT_EQ(manifest["annotation_count"], 7);
  auto sources = [&](int i) { return manifest["images"][i]["boxes"]; };
  EXPECT_EQ(sources(0), (nlohmann::json{{"reference", 2}}));
  EXPECT_EQ(sources(1), (nlohmann::json{{"reference", 0}, {"filled", 1}}));
  EXPECT_EQ(sources(2), (nlohmann::json{{"reference", 0}, {"held", 1}, {"filled", 1}}));
  EXPECT_EQ(sources(4), (nlohmann::json{{"reference", 1}}));
}

TEST(Dataset, CocoExportLoadsBack) {
  test::TempDir dir;
  write_sample(dir.path(), DatasetFormat::Coco);
  auto coco = read_json(dir / "annotations.json");
  ASSERT_EQ(coco["images"].size(), 3u);
  ASSERT_EQ(coco["annotations"].size(), 3u);
  ASSERT_EQ(coco["categories"].size(), 3u);
  EXPECT_EQ(coco["categories"][2]["name"], "car");
  for (const auto& a : coco["annotations"]) {
    EXPECT_EQ(a["bbox"].size(), 4u);
    EXPECT_TRUE(a.contains("image_id") && a.contains("category_id") && a.contains("area"));
  }
  EXPECT_EQ(coco["images"][0]["width"], 320);
  auto d = load_dataset(dir.path());
  ASSERT_EQ(d.images.size(), 3u);
  ASSERT_EQ(d.images[2].boxes.size(), 1u);
  EXPECT_FLOAT_EQ(d.images[2].boxes[0].score, 0.6f);
  EXPECT_NEAR(d.images[2].boxes[0].box.width, 20, 0.01);
}

TEST(Dataset, MalformedLabelsNameTheFileAndLine) {
  test::TempDir dir;
  write_sample(dir.path(), DatasetFormat::Yolo);
  std::ofstream(dir / "labels/000010.txt") << "0 0.5 0.5 0.1 0.1\n7 0.5 0.5 0.1 0.1\n";
  try {
    load_dataset(dir.path());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("000010.txt:2: class id 7"), std::string::npos) << e.what();
  }
}

TEST(CameraProfile, AppliesThresholdsAndStaticRegionsAndReadsBack) {
  test::TempDir dir;
  CameraProfile p;
  p.model = "yolo-fastest-body";
  p.thresholds = {{"person", 0.3f}};
  p.default_threshold = 0.5f;
  p.static_regions = {cv::Rect2f(100, 100, 20, 40)};
  save_camera_profile(p, (dir / "profile.json").string());
  auto back = load_camera_profile((dir / "profile.json").string());
  EXPECT_EQ(back.model, p.model);
  EXPECT_FLOAT_EQ(back.lowest_threshold(), 0.3f);
  auto kept = back.apply({box("person", 0, 10, 10, 20, 40, 0.35f),   // above its class threshold
                          box("person", 0, 50, 10, 20, 40, 0.25f),   // below
                          box("person", 0, 101, 101, 20, 40, 0.9f),  // on the static region
                          box("car", 2, 200, 10, 40, 20, 0.45f)});   // below the default
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_FLOAT_EQ(kept[0].box.x, 10);
  std::ofstream(dir / "bad.yaml") << "model: x\nstatic_regions: [[1, 2, 3]]\n";
  EXPECT_THROW(load_camera_profile((dir / "bad.yaml").string()), std::runtime_error);
}

TEST(RunConfigMotion, ReadsModesAndRejectsBadValuesWithTheirLine) {
  auto c = parse_run_config(
      "streams: [{source: a.mp4}]\n"
      "algorithms:\n"
      "  - detector: hog\n"
      "    motion: roi\n"
      "  - detector: hog\n"
      "    motion: {mode: skip, min_area: 500, full_frame_every: 2}\n",
      "cfg.yaml");
  EXPECT_EQ(c.algorithms[0].motion.mode, MotionMode::Roi);
  EXPECT_EQ(c.algorithms[1].motion.mode, MotionMode::Skip);
  EXPECT_DOUBLE_EQ(c.algorithms[1].motion.min_area, 500);
  EXPECT_DOUBLE_EQ(c.algorithms[1].motion.full_frame_every, 2);
  try {
    parse_run_config("streams: [{source: a.mp4}]\nalgorithms:\n  - detector: hog\n    motion: sometimes\n",
                     "cfg.yaml");
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.yaml:4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("motion"), std::string::npos) << e.what();
  }
  auto quiet = parse_run_config(
      "streams: [{source: a.mp4}]\nalgorithms:\n  - detector: hog\n    motion: {mode: roi, keep_static: "
      "false}\n");
  EXPECT_FALSE(quiet.algorithms[0].motion.keep_static);
  try {
    parse_run_config(
        "streams: [{source: a.mp4}]\nalgorithms:\n  - detector: hog\n    motion: {mode: roi, min_cropp: 3}\n",
        "cfg.yaml");
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.yaml:4: algorithms[0].motion.min_cropp: unknown key"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parse_run_config("streams: [{source: a.mp4}]\nalgorithms:\n  - detector: hog\n"
                                "    motion: {mode: roi, learning_rate: 2}\n"),
               ConfigError);
}

TEST(DatasetCli, CaptureWritesACocoDatasetThatLoadsBack) {
  test::TempDir dir;
  std::string output;
  int rc = run_command({test::sightflow_bin(), "dataset", "capture", "--source", test::vtest_path(),
                        "--reference-model", "yolox-nano", "--every", "10", "--max-frames", "30", "--format",
                        "coco", "--classes", "person", "--out", (dir / "ds").string()},
                       &output);
  ASSERT_EQ(rc, 0) << output;
  auto manifest = read_json(dir / "ds/manifest.json");
  EXPECT_EQ(manifest["reference_model"], "yolox-nano");
  EXPECT_EQ(manifest["format"], "coco");
  EXPECT_EQ(manifest["image_count"], 3);  // frames 0, 10, 20
  auto coco = read_json(dir / "ds/annotations.json");
  EXPECT_EQ(coco["images"].size(), 3u);
  // vtest.avi always shows several people: the reference finds some in each frame.
  EXPECT_GE(coco["annotations"].size(), 9u);
  EXPECT_EQ(manifest["counts"]["person"], coco["annotations"].size());
  auto d = load_dataset(dir / "ds");
  size_t boxes = 0;
  for (const auto& image : d.images) {
    EXPECT_TRUE(std::filesystem::exists(image.path));
    boxes += image.boxes.size();
  }
  EXPECT_EQ(boxes, coco["annotations"].size());
}

// The whole loop on vtest.avi: yolox-nano at 640 annotates every 10th frame (80 images), yolo-fastest-body
// at 320 is tuned on the first 70 % and scored on the last 30 %. Measured 2026-12-02 and again 2026-12-06
// (the same figures: fixed inputs): held-out F1 against the reference 0.8713 before (catalog threshold
// 0.4) and 0.8810 after (person threshold 0.47): 149 of 183 reference boxes found with 10 false positives,
// then 148 with 5. One box moves F1 by 0.003 (a false positive) to 0.006 (a true positive): the floors
// leave one true positive under each figure (0.006) and one false positive under the gain of 0.0096.
TEST(DatasetCli, TuningImprovesHeldOutF1AgainstTheReferenceOnVtest) {
  test::TempDir dir;
  std::string output;
  int rc =
      run_command({test::sightflow_bin(), "dataset", "capture", "--source", test::vtest_path(),
                   "--reference-model", "yolox-nano", "--param", "input=640", "--every", "10", "--classes",
                   "person", "--min-score", "0.3", "--format", "yolo", "--out", (dir / "ds").string()},
                  &output);
  ASSERT_EQ(rc, 0) << output;
  rc = run_command({test::sightflow_bin(), "tune", "--dataset", (dir / "ds").string(), "--model",
                    "yolo-fastest-body", "--out", (dir / "profile.json").string(), "--json"},
                   &output);
  ASSERT_EQ(rc, 0) << output;
  auto report = last_json_line(output);
  ASSERT_TRUE(report.contains("f1_after")) << output;
  EXPECT_EQ(report["tuning_images"], 56);
  EXPECT_EQ(report["heldout_images"], 24);
  double before = report["f1_before"], after = report["f1_after"];
  EXPECT_GE(before, 0.865) << output;  // the edge model is close to the reference to begin with
  EXPECT_GE(after, 0.875) << output;
  EXPECT_GE(after - before, 0.006) << output;

  // run --profile applies it: no detection below the tuned threshold survives.
  auto profile = load_camera_profile((dir / "profile.json").string());
  rc = run_command({test::sightflow_bin(), "run", "--source", test::vtest_path(), "--detector",
                    "yolo-fastest-body", "--profile", (dir / "profile.json").string(), "--max-frames", "20",
                    "--out", (dir / "out.jsonl").string(), "--no-progress"},
                   &output);
  ASSERT_EQ(rc, 0) << output;
  auto rows = test::read_jsonl(dir / "out.jsonl");
  ASSERT_EQ(rows.size(), 20u);
  size_t detections = 0;
  for (const auto& row : rows) {
    for (const auto& d : row["detections"]) {
      EXPECT_GE(d["score"].get<float>(), profile.thresholds.at("person") - 1e-6f);
      ++detections;
    }
  }
  EXPECT_GT(detections, 20u);
  // A profile tuned for another model is refused, naming both.
  rc = run_command(
      {test::sightflow_bin(), "run", "--source", test::vtest_path(), "--detector", "yolox-nano", "--profile",
       (dir / "profile.json").string(), "--max-frames", "2", "--out", (dir / "x.jsonl").string()},
      &output);
  EXPECT_NE(rc, 0);
  EXPECT_NE(output.find("tuned for yolo-fastest-body, not yolox-nano"), std::string::npos) << output;
}
