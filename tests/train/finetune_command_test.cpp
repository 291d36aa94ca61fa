// `sightflow tune --finetune` through the binary (which loads libsightflow_finetune.so), and the pieces of
// its training run: augmentation that moves boxes with their pixels, frozen layers that keep their weights.
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cstdlib>
#include <filesystem>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>

#include "sightflow/model.hpp"
#include "test_support.hpp"
#include "train/augmentation.hpp"
#include "train/finetune_run.hpp"

namespace fs = std::filesystem;
using namespace sf::train;

namespace {

fs::path models_dir() {
  const char* env = std::getenv("SIGHTFLOW_MODELS");
  return env && *env ? fs::path(env) : fs::path(sf::test::shared_dir()) / "models";
}
fs::path body_cfg() { return models_dir() / "yolo-fastest-1.1-body" / "yolo-fastest-1.1_body.cfg"; }
fs::path body_weights() { return models_dir() / "yolo-fastest-1.1-body" / "yolo-fastest-1.1_body.weights"; }

// Five frames of vtest.avi labelled by yolox-nano, captured once for the whole suite.
const fs::path& dataset() {
  static sf::test::TempDir dir;
  static const fs::path ds = [] {
    std::string output;
    const int rc =
        sf::test::run_command({sf::test::sightflow_bin(), "dataset", "capture", "--source",
                               sf::test::vtest_path(), "--reference-model", "yolox-nano", "--every", "40",
                               "--max-frames", "200", "--classes", "person", "--out", (dir / "ds").string()},
                              &output);
    EXPECT_EQ(rc, 0) << output;
    return dir / "ds";
  }();
  return ds;
}

int tune(const std::vector<std::string>& extra, std::string* output) {
  std::vector<std::string> argv = {sf::test::sightflow_bin(), "--threads", "1", "tune", "--finetune"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return sf::test::run_command(argv, output);
}

cv::Mat opencv_head(const fs::path& cfg, const fs::path& weights, const cv::Mat& image) {
  cv::dnn::Net net = cv::dnn::readNetFromDarknet(cfg.string(), weights.string());
  net.setInput(cv::dnn::blobFromImage(image, 1 / 255.0, cv::Size(320, 320), cv::Scalar(), true, false));
  return net.forward("conv_120").clone();
}

}  // namespace

TEST(TuneFinetune, TrainsThroughTheBinaryAndWritesAModelOpenCvRuns) {
  sf::test::TempDir dir;
  const fs::path out = dir / "tuned";
  std::string output;
  const int rc = tune({"--dataset", dataset().string(), "--detector", "yolo-fastest-body", "--out",
                       out.string(), "--epochs", "2", "--batch", "2", "--seed", "5", "--val-fraction", "0.4",
                       "--freeze", "4", "--learning-rate", "1e-3", "--json"},
                      &output);
  ASSERT_EQ(rc, 0) << output;
  for (const char* name :
       {"yolo-fastest-body-tuned.weights", "yolo-fastest-body-tuned.cfg", "yolo-fastest-body-tuned.yaml",
        "finetune.json", "checkpoint/state.json", "checkpoint/optimizer.pt"})
    EXPECT_TRUE(fs::exists(out / name)) << name;

  const nlohmann::json record = nlohmann::json::parse(sf::test::read_file(out / "finetune.json"));
  EXPECT_EQ(record, sf::test::last_json_line(output));
  EXPECT_EQ(record["data"]["images"], 5);
  EXPECT_EQ(record["data"]["heldout_images"], 2);
  EXPECT_EQ(record["epochs"].size(), 2u);
  EXPECT_EQ(record["settings"]["freeze"], 4);
  EXPECT_GT(record["validation"]["loss_before"]["total"].get<double>(), 0);
  EXPECT_GT(record["validation"]["loss_after"]["total"].get<double>(), 0);
  for (const char* when : {"detection_before", "detection_after"})
    for (const char* figure : {"precision", "recall", "f1", "ap50"}) {
      ASSERT_TRUE(record["validation"][when].contains(figure)) << when << " " << figure;
      EXPECT_GE(record["validation"][when][figure].get<double>(), 0);
    }
  EXPECT_GT(record["validation"]["detection_before"]["true_positives"].get<int>(), 0);

  // OpenCV DNN reads the written pair, and what it computes is no longer the untuned model's.
  const cv::Mat image = cv::imread(record["data"]["heldout"][0].get<std::string>());
  const cv::Mat untuned = opencv_head(body_cfg(), body_weights(), image);
  const cv::Mat tuned =
      opencv_head(out / "yolo-fastest-body-tuned.cfg", out / "yolo-fastest-body-tuned.weights", image);
  EXPECT_GT(cv::norm(tuned, untuned, cv::NORM_INF), 0.01);

  // The entry file runs as a detector by its path, through the catalog's pre- and post-processing.
  auto model = sf::create_model((out / "yolo-fastest-body-tuned.yaml").string(), {});
  const auto found = model->infer(std::span<const cv::Mat>(&image, 1)).at(0).detections;
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].label, "person");
}

// One epoch, then --resume to a second, trains the same weights as two epochs in one go.
TEST(TuneFinetune, ResumeContinuesFromTheCheckpoint) {
  sf::test::TempDir dir;
  const auto run = [&](const fs::path& out, const std::string& epochs, bool resume) {
    std::vector<std::string> args = {"--dataset",  dataset().string(),
                                     "--detector", "yolo-fastest-body",
                                     "--out",      out.string(),
                                     "--epochs",   epochs,
                                     "--batch",    "2",
                                     "--seed",     "9"};
    if (resume) args.push_back("--resume");
    std::string output;
    EXPECT_EQ(tune(args, &output), 0) << output;
    return nlohmann::json::parse(sf::test::read_file(out / "finetune.json"));
  };
  const nlohmann::json first = run(dir / "a", "1", false);
  ASSERT_EQ(first["epochs"].size(), 1u);
  const nlohmann::json resumed = run(dir / "a", "2", true);
  ASSERT_EQ(resumed["epochs"].size(), 2u);
  EXPECT_EQ(resumed["epochs"][0], first["epochs"][0]) << "the first epoch was trained again";
  run(dir / "b", "2", false);
  EXPECT_EQ(sf::test::read_file(dir / "a" / "checkpoint" / "last.weights"),
            sf::test::read_file(dir / "b" / "checkpoint" / "last.weights"))
      << "a resumed run trains other weights than one that never stopped";

  // A checkpoint made with other settings is not resumed.
  std::string output;
  EXPECT_NE(tune({"--dataset", dataset().string(), "--detector", "yolo-fastest-body", "--out",
                  (dir / "a").string(), "--epochs", "3", "--seed", "10", "--resume"},
                 &output),
            0);
  EXPECT_NE(output.find("other data or settings"), std::string::npos) << output;
}

TEST(TuneFinetune, ClearErrors) {
  sf::test::TempDir dir;
  const auto fails_with = [&](std::vector<std::string> args, const std::string& words) {
    std::string output;
    EXPECT_NE(tune(args, &output), 0) << output;
    EXPECT_NE(output.find(words), std::string::npos) << "expected '" << words << "' in: " << output;
  };
  const std::string out = (dir / "out").string();
  fails_with({"--dataset", (dir / "none").string(), "--detector", "yolo-fastest-body", "--out", out},
             (dir / "none").string());
  fails_with({"--dataset", dataset().string(), "--detector", "yolox-nano", "--out", out},
             "trains darknet models");
  fails_with({"--dataset", dataset().string(), "--detector", "no-such-model", "--out", out}, "unknown model");
  fails_with({"--dataset", dataset().string(), "--detector", "yolo-fastest-body", "--out", out, "--resume"},
             "no checkpoint");
  sf::test::ScopedEnv absent("SIGHTFLOW_FINETUNE_MODULE", (dir / "libsightflow_finetune.so").c_str());
  fails_with({"--dataset", dataset().string(), "--detector", "yolo-fastest-body", "--out", out},
             "built without libtorch");
}

// A bright box on a dark picture stays under its target through flips, zooms and colour changes.
TEST(FinetuneAugmentation, BoxesMoveWithTheirPixels) {
  torch::Tensor images = torch::zeros({2, 3, 96, 128});
  using torch::indexing::Slice;
  images.index_put_({0, Slice(), Slice(20, 60), Slice(10, 40)}, 0.8f);  // x 10..40, y 20..60
  images.index_put_({1, Slice(), Slice(30, 90), Slice(70, 120)}, 0.8f);
  const std::vector<YoloTarget> targets = {{0, 0, 25.f / 128, 40.f / 96, 30.f / 128, 40.f / 96},
                                           {1, 0, 95.f / 128, 60.f / 96, 50.f / 128, 60.f / 96}};
  std::mt19937_64 random(1);
  int flipped = 0;
  for (int round = 0; round < 20; ++round) {
    torch::Tensor batch = images.clone();
    std::vector<YoloTarget> moved = targets;
    augment_batch(batch, moved, {true, 0.3f, 0.3f}, random);
    ASSERT_FALSE(moved.empty());
    for (const YoloTarget& t : moved) {
      const auto x1 = int64_t((t.cx - t.w / 2) * 128), x2 = int64_t((t.cx + t.w / 2) * 128);
      const auto y1 = int64_t((t.cy - t.h / 2) * 96), y2 = int64_t((t.cy + t.h / 2) * 96);
      const torch::Tensor picture = batch[t.image];
      const float inside =
          picture.index({Slice(), Slice(y1 + 2, y2 - 2), Slice(x1 + 2, x2 - 2)}).mean().item<float>();
      const float all = picture.mean().item<float>();
      EXPECT_GT(inside, all + 0.1f) << "round " << round << ", image " << t.image;
      if (t.image == 0 && t.cx > 0.5f) ++flipped;
    }
  }
  EXPECT_GT(flipped, 0) << "no flip in 20 rounds";
}

// --freeze N: the first N layers keep their loaded weights, the rest learn.
TEST(FinetuneRun, FrozenLayersKeepTheirWeights) {
  torch::set_num_threads(1);
  sf::test::TempDir dir;
  FinetuneRequest request;
  request.cfg = body_cfg();
  request.weights = body_weights();
  request.out_dir = dir / "out";
  request.name = "frozen";
  request.classes = {{"person", 0}};
  sf::DatasetImage image;
  image.path = SIGHTFLOW_TEST_IMAGE;
  image.boxes = {{"person", 0, 1.f, {200, 20, 120, 300}, {}}};
  request.images = {image, image};
  request.epochs = 1;
  request.batch_size = 2;
  request.learning_rate = 1e-2;
  request.val_fraction = 0;
  request.freeze = 3;
  run_finetune(request);
  DarknetNetwork before = load_darknet_network(body_cfg(), body_weights());
  DarknetNetwork after =
      load_darknet_network(request.out_dir / "frozen.cfg", request.out_dir / "frozen.weights");
  const auto old_parameters = before->named_parameters(), new_parameters = after->named_parameters();
  EXPECT_TRUE(torch::equal(old_parameters["conv_0.weight"], new_parameters["conv_0.weight"]));
  EXPECT_TRUE(torch::equal(old_parameters["conv_2.weight"], new_parameters["conv_2.weight"]));
  EXPECT_FALSE(torch::equal(old_parameters["conv_3.weight"], new_parameters["conv_3.weight"]));
}
