// Every catalog model on real images, checked against what is in them; batching; and the errors a user
// sees when model files are missing, damaged or described wrongly. Models come from the models folder
// setting ($SIGHTFLOW_MODELS, default ../shared/models).
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "sightflow/evaluation.hpp"
#include "sightflow/model.hpp"
#include "sightflow/model_catalog.hpp"
#include "sightflow/source.hpp"
#include "test_support.hpp"

using namespace sf;
namespace fs = std::filesystem;

namespace {

const std::string kData = "/usr/share/doc/opencv-doc/examples/data/";

// Messi's face in messi5.jpg as both face models place it (MANIFEST: YuNet 224,91,32x43).
const cv::Rect2f kMessiFace(224, 91, 32, 43);

cv::Mat image(const std::string& name) {
  cv::Mat m = cv::imread(kData + name);
  if (m.empty()) throw std::runtime_error("cannot read " + kData + name);
  return m;
}

std::vector<Frame> vtest_frames(const std::vector<int64_t>& wanted) {
  auto source = open_source(test::vtest_path(), {});
  std::vector<Frame> frames;
  while (auto f = source->read()) {
    if (std::find(wanted.begin(), wanted.end(), f->seq) != wanted.end()) frames.push_back(*f);
    if (frames.size() == wanted.size()) break;
  }
  return frames;
}

ModelOutput infer_one(Model& model, const cv::Mat& m) {
  return model.infer(std::span<const cv::Mat>(&m, 1)).at(0);
}

// Restores the process-wide model locations a test changes.
class LocationsGuard {
 public:
  LocationsGuard() : saved_(model_locations()) {}
  ~LocationsGuard() { set_model_locations(saved_); }

 private:
  ModelLocations saved_;
};

struct DetectorCase {
  std::string name;
  double min_precision, min_recall;
};

class PersonDetectors : public ::testing::TestWithParam<DetectorCase> {};

}  // namespace

TEST_P(PersonDetectors, FindThePedestriansOfVtest) {
  const auto& c = GetParam();
  auto model = create_model(c.name);
  EXPECT_EQ(model->info().task, ModelTask::Detection);
  auto truth = load_mot_ground_truth(test::shared_dir() + "/eval/pets09-s2l1/gt.txt");
  DetectionEvaluator evaluator(0.5);
  for (const auto& frame : vtest_frames({100, 250, 400, 550, 700})) {
    auto out = infer_one(*model, frame.image);
    std::vector<Detection> people;
    for (const auto& d : out.detections) {
      EXPECT_GE(d.box.x, 0);
      EXPECT_LE(d.box.x + d.box.width, frame.image.cols + 0.01f);
      EXPECT_LE(d.box.y + d.box.height, frame.image.rows + 0.01f);
      if (d.label == "person") people.push_back(d);
    }
    evaluator.add_frame(people, truth[frame.seq]);
  }
  auto s = evaluator.summary();
  EXPECT_EQ(s.frames, 5);
  EXPECT_GE(s.precision, c.min_precision) << c.name << " recall " << s.recall;
  EXPECT_GE(s.recall, c.min_recall) << c.name << " precision " << s.precision;
  std::cout << c.name << ": precision " << s.precision << " recall " << s.recall << "\n";
}

INSTANTIATE_TEST_SUITE_P(Catalog, PersonDetectors,
                         ::testing::Values(DetectorCase{"yolox-nano", 0.85, 0.85},
                                           DetectorCase{"yolo-fastest-xl", 0.75, 0.7},
                                           DetectorCase{"yolo-fastest", 0.6, 0.65},
                                           DetectorCase{"yolo-fastest-body", 0.7, 0.75}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(CocoDetectors, NameOtherClassesToo) {
  // The parked car at the top right of vtest.avi is a COCO "car" for both COCO models.
  auto frames = vtest_frames({100});
  for (const char* name : {"yolox-nano", "yolo-fastest-xl"}) {
    auto out = infer_one(*create_model(name), frames.at(0).image);
    bool car = false;
    for (const auto& d : out.detections) car = car || (d.label == "car" && d.box.x > 600 && d.box.y < 150);
    EXPECT_TRUE(car) << name;
  }
}

TEST(FaceModels, YunetFindsMessisFaceWithLandmarks) {
  auto model = create_model("yunet");
  auto out = infer_one(*model, image("messi5.jpg"));
  ASSERT_EQ(out.detections.size(), 1u);
  const auto& face = out.detections[0];
  EXPECT_EQ(face.label, "face");
  EXPECT_GE(face.score, 0.6f);
  EXPECT_GE(iou(face.box, kMessiFace), 0.6f) << face.box;
  ASSERT_EQ(face.landmarks.size(), 5u);
  for (const auto& p : face.landmarks) EXPECT_TRUE(face.box.contains(p)) << p;
  // Eyes above the nose, nose above the mouth corners.
  EXPECT_LT(face.landmarks[0].y, face.landmarks[2].y);
  EXPECT_LT(face.landmarks[2].y, face.landmarks[3].y);
}

TEST(FaceModels, Res10FindsMessisFace) {
  auto model = create_model("res10-face");
  auto out = infer_one(*model, image("messi5.jpg"));
  ASSERT_EQ(out.detections.size(), 1u);
  EXPECT_EQ(out.detections[0].label, "face");
  EXPECT_GE(out.detections[0].score, 0.9f);
  EXPECT_GE(iou(out.detections[0].box, kMessiFace), 0.5f) << out.detections[0].box;
}

TEST(FaceModels, BothAgreeOnMegamindAndFindNoFaceInThePedestrianScene) {
  auto source = open_source(kData + "Megamind.avi", {});
  cv::Mat frame;
  for (int i = 0; i <= 60; ++i) {
    auto f = source->read();
    ASSERT_TRUE(f.has_value());
    frame = f->image;
  }
  auto yunet = infer_one(*create_model("yunet"), frame);
  auto res10 = infer_one(*create_model("res10-face"), frame);
  ASSERT_FALSE(yunet.detections.empty());
  ASSERT_FALSE(res10.detections.empty());
  float best = 0;
  for (const auto& a : yunet.detections)
    for (const auto& b : res10.detections) best = std::max(best, iou(a.box, b.box));
  EXPECT_GE(best, 0.4f);
  auto pedestrians = vtest_frames({100}).at(0).image;
  EXPECT_TRUE(infer_one(*create_model("res10-face"), pedestrians).detections.empty());
}

TEST(Classifier, MobileNetV2NamesTheSquirrelAndTheOrange) {
  auto model = create_model("mobilenetv2");
  EXPECT_EQ(model->info().task, ModelTask::Classification);
  auto squirrel = infer_one(*model, image("squirrel_cls.jpg"));
  ASSERT_EQ(squirrel.labels.size(), 5u);
  // Labels are the lines of the class list: ImageNet names with their synonyms.
  EXPECT_EQ(squirrel.labels[0].label.rfind("fox squirrel", 0), 0u) << squirrel.labels[0].label;
  EXPECT_GE(squirrel.labels[0].score, 0.9f);
  float sum = 0;
  for (size_t i = 0; i < squirrel.labels.size(); ++i) {
    sum += squirrel.labels[i].score;
    if (i > 0) {
      EXPECT_LE(squirrel.labels[i].score, squirrel.labels[i - 1].score);
    }
  }
  EXPECT_LE(sum, 1.001f);
  EXPECT_TRUE(squirrel.detections.empty());
  auto orange = infer_one(*model, image("orange.jpg"));
  EXPECT_EQ(orange.labels.at(0).label.rfind("orange", 0), 0u) << orange.labels.at(0).label;
  auto top1 = infer_one(*create_model("mobilenetv2", {{"top_k", "1"}}), image("orange.jpg"));
  EXPECT_EQ(top1.labels.size(), 1u);
}

TEST(DnnBatch, ABatchGivesWhatEachImageGivesAlone) {
  auto model = create_model("yolo-fastest-xl");
  ASSERT_GE(model->info().max_batch, 3);
  auto frames = vtest_frames({100, 400, 700});
  std::vector<cv::Mat> images;
  for (const auto& f : frames) images.push_back(f.image);
  auto batch = model->infer(images);
  ASSERT_EQ(batch.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    auto alone = infer_one(*model, images[i]);
    ASSERT_EQ(batch[i].detections.size(), alone.detections.size()) << "image " << i;
    for (size_t k = 0; k < alone.detections.size(); ++k) {
      EXPECT_EQ(batch[i].detections[k].label, alone.detections[k].label);
      EXPECT_NEAR(batch[i].detections[k].score, alone.detections[k].score, 1e-3);
      EXPECT_GE(iou(batch[i].detections[k].box, alone.detections[k].box), 0.99f);
    }
  }
  // A batch-1 model (YOLOX in OpenCV 4.6) is run image by image when handed several.
  auto yolox = create_model("yolox-nano");
  EXPECT_EQ(yolox->info().max_batch, 1);
  EXPECT_EQ(yolox->infer(images).size(), 3u);
}

TEST(DnnParams, InputSizeAndThresholdsAreCheckedAndApplied) {
  auto frame = vtest_frames({100}).at(0).image;
  auto strict = infer_one(*create_model("yolox-nano", {{"score_threshold", "0.8"}}), frame);
  auto loose = infer_one(*create_model("yolox-nano", {{"score_threshold", "0.2"}}), frame);
  EXPECT_LT(strict.detections.size(), loose.detections.size());
  for (const auto& d : strict.detections) EXPECT_GE(d.score, 0.8f);
  EXPECT_FALSE(infer_one(*create_model("yolox-nano", {{"input", "416"}}), frame).detections.empty());
  EXPECT_THROW(create_model("yolox-nano", {{"input", "big"}}), std::invalid_argument);
  EXPECT_THROW(create_model("yolox-nano", {{"score_threshold", "2"}}), std::invalid_argument);
  try {
    create_model("yolox-nano", {{"inptu", "416"}});
    FAIL() << "a misspelt parameter must be an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("inptu"), std::string::npos) << e.what();
  }
}

TEST(DnnModelFiles, AMissingModelsFolderNamesTheFileAndWhereItComesFrom) {
  LocationsGuard guard;
  test::TempDir empty;
  auto where = model_locations();
  where.models_dir = empty.path();
  set_model_locations(where);
  try {
    create_model("yolox-nano");
    FAIL() << "expected an error";
  } catch (const ModelFileError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("yolox-nano/yolox_nano.onnx"), std::string::npos) << m;
    EXPECT_NE(m.find("hamacom2004jp"), std::string::npos) << m;
    EXPECT_NE(m.find("SIGHTFLOW_MODELS"), std::string::npos) << m;
  }
}

TEST(DnnModelFiles, DamagedOrUnloadableFilesAreErrorsNotCrashes) {
  LocationsGuard guard;
  test::TempDir dir;
  fs::create_directories(dir / "yolox-nano");
  fs::copy_file(test::shared_dir() + "/models/yolox-nano/coco.names", dir / "yolox-nano/coco.names");
  {
    std::ifstream in(test::shared_dir() + "/models/yolox-nano/yolox_nano.onnx", std::ios::binary);
    std::vector<char> head(4096);
    in.read(head.data(), head.size());
    std::ofstream(dir / "yolox-nano/yolox_nano.onnx", std::ios::binary).write(head.data(), head.size());
  }
  auto where = model_locations();
  where.models_dir = dir.path();
  set_model_locations(where);
  try {
    create_model("yolox-nano");
    FAIL() << "a truncated model must be refused";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("sha256"), std::string::npos) << e.what();
  }
  // Without a recorded sha256 the damage reaches OpenCV, whose error is reported with the file's name.
  std::ofstream(dir / "catalog.yaml") << R"(models:
  cut-yolox:
    task: detection
    format: onnx
    files:
      - {role: model, path: yolox-nano/yolox_nano.onnx}
    input: [320, 320]
    preprocess: {resize: letterbox}
    decoder: yolox
    max_batch: 1
    classes: [person]
    thresholds: {score: 0.4, nms: 0.45}
)";
  where.catalog = dir / "catalog.yaml";
  set_model_locations(where);
  try {
    create_model("cut-yolox");
    FAIL() << "a truncated model must be refused";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("cannot load"), std::string::npos) << m;
    EXPECT_NE(m.find("yolox_nano.onnx"), std::string::npos) << m;
  }
}

TEST(DnnCatalog, AUserAddedEntryRunsWithoutARebuild) {
  LocationsGuard guard;
  test::TempDir dir;
  // The same YOLOX weights at 416 with a centred letterbox, described by the user's own catalog.
  std::ofstream(dir / "mine.yaml") << R"(models:
  my-yolox-416:
    task: detection
    format: onnx
    files:
      - {role: model, path: yolox-nano/yolox_nano.onnx}
      - {role: labels, path: yolox-nano/coco.names}
    input: [416, 416]
    preprocess: {resize: letterbox, align: top-left, pad: 114}
    decoder: yolox
    decoder_options: {strides: [8, 16, 32]}
    max_batch: 1
    thresholds: {score: 0.5, nms: 0.45}
)";
  auto where = model_locations();
  where.catalog = dir / "mine.yaml";
  set_model_locations(where);
  auto model = create_model("my-yolox-416");
  auto out = infer_one(*model, vtest_frames({100}).at(0).image);
  int people = 0;
  for (const auto& d : out.detections) people += d.label == "person";
  EXPECT_GE(people, 4);
}

TEST(DnnPrepare, InputsPreparedAheadGiveTheSameDetections) {
  auto model = create_model("yolo-fastest-xl");
  auto frames = vtest_frames({100, 400});
  std::vector<cv::Mat> images{frames[0].image, frames[1].image};
  auto plain = model->infer(images);
  StageTimes times;
  // One prepared ahead (as the pipeline's decode thread does), one left to the model.
  std::vector<Prepared> prepared{model->prepare(images[0], &times), nullptr};
  ASSERT_NE(prepared[0], nullptr);
  EXPECT_GT(times.resize, 0);
  auto ahead = model->infer_prepared(images, prepared);
  ASSERT_EQ(ahead.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(ahead[i].detections.size(), plain[i].detections.size());
    for (size_t k = 0; k < plain[i].detections.size(); ++k)
      EXPECT_GE(iou(ahead[i].detections[k].box, plain[i].detections[k].box), 0.999f);
  }
  // An input prepared by a different model is refused rather than misread.
  class Other : public PreparedInput {};
  std::vector<Prepared> foreign{std::make_shared<Other>()};
  EXPECT_THROW(model->infer_prepared(std::span<const cv::Mat>(&images[0], 1), foreign),
               std::invalid_argument);
}
