// Fine-tuning a darknet network (src/train): the YOLO loss on hand-made heads, and a few iterations on
// frames annotated by `sightflow dataset capture`, written back and run by OpenCV DNN.
#include "train/darknet_finetune.hpp"

#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>

#include "test_support.hpp"
#include "train/yolo_loss.hpp"

namespace fs = std::filesystem;
using namespace sf::train;

namespace {

fs::path body_dir() {
  const char* env = std::getenv("SIGHTFLOW_MODELS");
  return (env && *env ? fs::path(env) : fs::path(sf::test::shared_dir()) / "models") /
         "yolo-fastest-1.1-body";
}
fs::path body_cfg() { return body_dir() / "yolo-fastest-1.1_body.cfg"; }
fs::path body_weights() { return body_dir() / "yolo-fastest-1.1_body.weights"; }

cv::Mat run_opencv(const fs::path& weights, const cv::Mat& blob, const std::string& layer) {
  cv::dnn::Net net = cv::dnn::readNetFromDarknet(body_cfg().string(), weights.string());
  net.setInput(blob);
  return net.forward(layer).clone();
}

}  // namespace

// yolo-fastest-body's first head (10x10 at 320) owns anchors 3..5; anchor 3 is 64x187 pixels. A box of
// exactly that shape centred in cell (5, 5) is what all-zero logits predict: no box loss, and each class
// logit at 0 costs log 2.
TEST(YoloLoss, AssignsTheBestAnchorAndScoresItsBox) {
  DarknetNetwork network(read_darknet_cfg(body_cfg()));
  const std::vector<torch::Tensor> heads = {torch::zeros({1, 18, 10, 10}), torch::zeros({1, 18, 20, 20})};
  const float w = 64.f / 320, h = 187.f / 320;
  YoloLossParts centred = yolo_loss(heads, network->yolo_layers(), {{0, 0, 0.55f, 0.55f, w, h}}, 320, 320);
  EXPECT_NEAR(centred.box.item<float>(), 0.f, 1e-6);
  EXPECT_NEAR(centred.classes.item<float>(), std::log(2.f), 1e-6);
  EXPECT_GT(centred.objectness.item<float>(), 0.f);
  // A quarter cell to the right: sigmoid(0) = 0.5 against 0.75, weighted by 2 - w*h.
  YoloLossParts shifted = yolo_loss(heads, network->yolo_layers(), {{0, 0, 0.575f, 0.55f, w, h}}, 320, 320);
  EXPECT_NEAR(shifted.box.item<float>(), (2 - w * h) * 0.0625f, 1e-5);
  EXPECT_THROW(yolo_loss(heads, network->yolo_layers(), {{0, 1, 0.5f, 0.5f, w, h}}, 320, 320),
               std::invalid_argument);
}

// Four frames of vtest.avi labelled by yolox-nano; yolo-fastest-body trained on them for a few iterations.
TEST(DarknetFinetune, LossFallsAndOpenCvRunsTheWrittenWeights) {
  torch::set_num_threads(1);  // a shared two-core host
  sf::test::TempDir dir;
  std::string output;
  const int rc =
      sf::test::run_command({sf::test::sightflow_bin(), "dataset", "capture", "--source",
                             sf::test::vtest_path(), "--reference-model", "yolox-nano", "--every", "40",
                             "--max-frames", "160", "--classes", "person", "--out", (dir / "ds").string()},
                            &output);
  ASSERT_EQ(rc, 0) << output;
  const sf::Dataset dataset = sf::load_dataset(dir / "ds");
  ASSERT_EQ(dataset.images.size(), 4u);

  DarknetNetwork network = load_darknet_network(body_cfg(), body_weights());
  const TrainingSet set = make_training_set(dataset.images, network, {{"person", 0}});
  size_t boxes = 0;
  for (const auto& image_boxes : set.boxes) boxes += image_boxes.size();
  EXPECT_GE(boxes, 12u);  // vtest shows several people in every frame

  const FinetuneStep before = evaluate_loss(network, set);
  FinetuneOptions options;
  options.iterations = 15;
  options.batch_size = 4;
  options.learning_rate = 1e-3;
  options.seed = 7;
  const auto steps = finetune(network, set, options);
  ASSERT_EQ(steps.size(), 15u);
  const FinetuneStep after = evaluate_loss(network, set);
  std::cout << "loss on the 4 frames: " << before.total() << " before, " << after.total()
            << " after 15 iterations\n";
  EXPECT_LT(after.total(), 0.8f * before.total())
      << "before " << before.total() << ", after " << after.total();

  network->save_weights(dir / "tuned.weights");
  const cv::Mat blob = cv::dnn::blobFromImage(cv::imread(dataset.images[0].path.string()), 1 / 255.0,
                                              cv::Size(320, 320), cv::Scalar(), true, false);
  const cv::Mat untuned = run_opencv(body_weights(), blob, "conv_120");
  const cv::Mat tuned = run_opencv(dir / "tuned.weights", blob, "conv_120");
  EXPECT_GT(cv::norm(tuned, untuned, cv::NORM_INF), 0.05) << "the written weights are not the trained ones";
  // What OpenCV runs is the trained network: its head matches libtorch's.
  torch::NoGradGuard no_grad;
  const torch::Tensor head = network->forward(set.images.narrow(0, 0, 1))[0];
  const torch::Tensor opencv_head =
      torch::from_blob(const_cast<float*>(tuned.ptr<float>()), head.sizes(), torch::kFloat);
  EXPECT_LT((head - opencv_head).abs().max().item<float>(), 2e-4);
}

// The same seed, data and options train the same weights.
TEST(DarknetFinetune, SameSeedSameLosses) {
  torch::set_num_threads(1);
  sf::DatasetImage image;
  image.path = SIGHTFLOW_TEST_IMAGE;
  image.boxes = {{"person", 0, 1.f, {200, 20, 120, 300}, {}}};
  const auto run = [&] {
    DarknetNetwork network = load_darknet_network(body_cfg(), body_weights());
    const TrainingSet set = make_training_set({image, image}, network, {{"person", 0}});
    FinetuneOptions options;
    options.iterations = 3;
    options.batch_size = 1;
    options.seed = 3;
    std::vector<float> losses;
    for (const auto& step : finetune(network, set, options)) losses.push_back(step.total());
    return losses;
  };
  const std::vector<float> first = run();
  EXPECT_EQ(first, run());
}
