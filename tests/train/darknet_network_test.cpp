// Darknet models in libtorch (src/train): the catalog's yolo-fastest files read, run and written back.
#include "train/darknet_network.hpp"

#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "test_support.hpp"
#include "train/yolo_output.hpp"

namespace fs = std::filesystem;
using sf::train::DarknetNetwork;
using sf::train::load_darknet_network;
using sf::train::read_darknet_cfg;

namespace {

struct DarknetFiles {
  std::string name;
  fs::path cfg, weights;
};

fs::path models_dir() {
  const char* env = std::getenv("SIGHTFLOW_MODELS");
  return env && *env ? fs::path(env) : fs::path(sf::test::shared_dir()) / "models";
}

DarknetFiles body() {
  const fs::path dir = models_dir() / "yolo-fastest-1.1-body";
  return {"yolo-fastest-1.1-body", dir / "yolo-fastest-1.1_body.cfg", dir / "yolo-fastest-1.1_body.weights"};
}
DarknetFiles coco() {
  const fs::path dir = models_dir() / "yolo-fastest-1.1";
  return {"yolo-fastest-1.1", dir / "yolo-fastest-1.1.cfg", dir / "yolo-fastest-1.1.weights"};
}
DarknetFiles coco_xl() {
  const fs::path dir = models_dir() / "yolo-fastest-1.1-xl";
  return {"yolo-fastest-1.1-xl", dir / "yolo-fastest-1.1-xl.cfg", dir / "yolo-fastest-1.1-xl.weights"};
}

// gtest names a failing case by this rather than by the struct's bytes.
void PrintTo(const DarknetFiles& files, std::ostream* os) { *os << files.name; }

std::string case_name(const ::testing::TestParamInfo<DarknetFiles>& info) {
  std::string name = info.param.name;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// What a call threw, or "" when it did not.
template <typename F>
std::string error_of(F&& call) {
  try {
    call();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The catalog's preprocessing for these models: a plain resize, RGB, [0, 1].
cv::Mat input_blob(int width, int height) {
  const cv::Mat image = cv::imread(SIGHTFLOW_TEST_IMAGE);
  EXPECT_FALSE(image.empty()) << SIGHTFLOW_TEST_IMAGE;
  return cv::dnn::blobFromImage(image, 1 / 255.0, cv::Size(width, height), cv::Scalar(), true, false);
}

torch::Tensor to_tensor(const cv::Mat& m) {
  std::vector<int64_t> shape(m.size.p, m.size.p + m.dims);
  if (m.dims == 2) shape = {m.rows, m.cols};
  return torch::from_blob(const_cast<float*>(m.ptr<float>()), shape, torch::kFloat).clone();
}

double max_abs_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

class DarknetRoundTrip : public ::testing::TestWithParam<DarknetFiles> {};

// Loading and saving without training writes the file it read, byte for byte: the order and count of every
// tensor, and the header, match darknet's.
TEST_P(DarknetRoundTrip, SavedWeightsAreByteIdentical) {
  const DarknetFiles files = GetParam();
  sf::test::TempDir dir;
  DarknetNetwork network = load_darknet_network(files.cfg, files.weights);
  network->save_weights(dir / "saved.weights");
  const std::string original = sf::test::read_file(files.weights);
  const std::string saved = sf::test::read_file(dir / "saved.weights");
  ASSERT_EQ(saved.size(), original.size());
  EXPECT_TRUE(saved == original);
}

INSTANTIATE_TEST_SUITE_P(Catalog, DarknetRoundTrip, ::testing::Values(body(), coco(), coco_xl()), case_name);

class DarknetMatchesOpenCv : public ::testing::TestWithParam<DarknetFiles> {};

// libtorch and OpenCV DNN on the same blob: the raw tensors each [yolo] layer reads (OpenCV's conv_I before
// it), and the rows OpenCV's region layer outputs, which the catalog's decoder reads.
TEST_P(DarknetMatchesOpenCv, YoloLayerOutputsMatch) {
  const DarknetFiles files = GetParam();
  DarknetNetwork network = load_darknet_network(files.cfg, files.weights);
  const cv::Mat blob = input_blob(network->input_width(), network->input_height());

  cv::dnn::Net net = cv::dnn::readNetFromDarknet(files.cfg.string(), files.weights.string());
  net.setInput(blob);
  std::vector<std::string> names;
  for (const auto& yolo : network->yolo_layers()) names.push_back("conv_" + std::to_string(yolo.layer - 1));
  const std::vector<std::string> unconnected = net.getUnconnectedOutLayersNames();
  ASSERT_EQ(unconnected.size(), network->yolo_layers().size());
  names.insert(names.end(), unconnected.begin(), unconnected.end());
  std::vector<cv::Mat> opencv;
  net.forward(opencv, names);

  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> heads = network->forward(to_tensor(blob));
  ASSERT_EQ(heads.size(), network->yolo_layers().size());
  for (size_t i = 0; i < heads.size(); ++i) {
    const auto& spec = network->yolo_layers()[i];
    const torch::Tensor raw = to_tensor(opencv[i]);
    ASSERT_EQ(heads[i].sizes(), raw.sizes()) << names[i];
    // Tolerances: float32 sums in another order. Measured on yolo-fastest-1.1 and -body: raw logits (up to
    // ~20 in magnitude) differ by at most 3.5e-5, rows by at most 2e-6; the bounds leave a 6-10x margin.
    EXPECT_LT(max_abs_difference(heads[i], raw), 2e-4) << names[i];

    const torch::Tensor rows =
        sf::train::yolo_rows_like_opencv(heads[i], spec, network->input_width(), network->input_height())[0];
    const torch::Tensor expected = to_tensor(opencv[heads.size() + i]);
    ASSERT_EQ(rows.sizes(), expected.sizes()) << unconnected[i];
    EXPECT_LT(max_abs_difference(rows.narrow(1, 0, 5), expected.narrow(1, 0, 5)), 2e-5) << unconnected[i];
    // Class scores are zeroed at or below 0.2: compare where the score before that cut is not on its edge.
    const torch::Tensor uncut = sf::train::yolo_rows_like_opencv(heads[i], spec, network->input_width(),
                                                                 network->input_height(), -1.f)[0];
    const torch::Tensor clear = (uncut.narrow(1, 5, spec.classes) - 0.2).abs() > 1e-4;
    const torch::Tensor classes = rows.narrow(1, 5, spec.classes);
    const torch::Tensor opencv_classes = expected.narrow(1, 5, spec.classes);
    EXPECT_LT(max_abs_difference(classes * clear, opencv_classes * clear), 2e-5) << unconnected[i];
    EXPECT_GT(expected.narrow(1, 4, 1).max().item<float>(), 0.5) << "the input shows no object: a weak check";
  }
}

INSTANTIATE_TEST_SUITE_P(Catalog, DarknetMatchesOpenCv, ::testing::Values(body(), coco(), coco_xl()),
                         case_name);

TEST(DarknetWeights, ShorterThanTheCfgNamesTheOffsetAndLayer) {
  sf::test::TempDir dir;
  const std::string bytes = sf::test::read_file(body().weights);
  const fs::path cut = dir / "cut.weights";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 400);
  const std::string error = error_of([&] { load_darknet_network(body().cfg, cut); });
  EXPECT_NE(error.find(cut.string() + ": offset "), std::string::npos) << error;
  // The last convolution (the second head) is where the numbers run out.
  EXPECT_NE(error.find("yolo-fastest-1.1_body.cfg:922 [convolutional]) weights needs"), std::string::npos)
      << error;
  EXPECT_NE(error.find("shorter than the cfg"), std::string::npos) << error;
}

TEST(DarknetWeights, LongerThanTheCfgNamesTheBytesLeft) {
  sf::test::TempDir dir;
  const fs::path longer = dir / "longer.weights";
  std::ofstream(longer, std::ios::binary) << sf::test::read_file(body().weights) << std::string(8, '\0');
  const std::string error = error_of([&] { load_darknet_network(body().cfg, longer); });
  EXPECT_NE(error.find(longer.string() + ": 8 bytes left after the last layer (offset 1177604)"),
            std::string::npos)
      << error;
}

TEST(DarknetWeights, AnotherModelsWeightsDoNotFit) {
  // The 80-class network's weights under the 1-class cfg: the same backbone, other heads.
  const std::string error = error_of([&] { load_darknet_network(body().cfg, coco().weights); });
  EXPECT_NE(error.find(coco().weights.string() + ": "), std::string::npos) << error;
  EXPECT_NE(error.find("longer than the cfg"), std::string::npos) << error;
}

TEST(DarknetWeights, TooShortForItsHeader) {
  sf::test::TempDir dir;
  std::ofstream(dir / "tiny.weights", std::ios::binary) << std::string(10, '\0');
  const std::string error = error_of([&] { load_darknet_network(body().cfg, dir / "tiny.weights"); });
  EXPECT_NE(error.find("tiny.weights: 10 bytes, shorter than its header"), std::string::npos) << error;
}

TEST(DarknetCfg, UnknownSectionNamesTheFileAndLine) {
  sf::test::TempDir dir;
  const fs::path cfg = dir / "odd.cfg";
  std::ofstream(cfg)
      << "[net]\nwidth=32\nheight=32\n\n[convolutional]\nfilters=18\n\n[gaussian_yolo]\nclasses=1\n";
  const std::string error = error_of([&] { read_darknet_cfg(cfg); });
  EXPECT_NE(error.find(cfg.string() + ":8: unknown section [gaussian_yolo]"), std::string::npos) << error;
}

TEST(DarknetCfg, YoloLayerWithTheWrongChannelsNamesItsSection) {
  sf::test::TempDir dir;
  std::string text = sf::test::read_file(body().cfg);
  // Two classes over heads built for one.
  for (size_t at = text.find("classes=1"); at != std::string::npos; at = text.find("classes=1", at))
    text.replace(at, 9, "classes=2");
  const fs::path cfg = dir / "two-classes.cfg";
  std::ofstream(cfg) << text;
  const std::string error = error_of([&] { DarknetNetwork network(read_darknet_cfg(cfg)); });
  EXPECT_NE(error.find(cfg.string() + ":862 [yolo]: reads 18 channels; 3 anchors x (5 + 2 classes) need 21"),
            std::string::npos)
      << error;
}

TEST(DarknetCfg, BadValuesNameTheKey) {
  const auto error_for = [](const std::string& layer) {
    return error_of([&] {
      DarknetNetwork network(sf::train::parse_darknet_cfg("[net]\nwidth=32\nheight=32\n" + layer, "t.cfg"));
    });
  };
  EXPECT_NE(
      error_for("[convolutional]\nfilters=x8\n").find("t.cfg:4 [convolutional]: filters = x8: not a number"),
      std::string::npos);
  EXPECT_NE(
      error_for("[convolutional]\nfilters=8\nactivation=gelu\n").find("activation gelu is not supported"),
      std::string::npos);
  EXPECT_NE(error_for("[route]\nlayers=3\n").find("t.cfg:4 [route]: refers to layer 3, not an earlier layer"),
            std::string::npos);
  EXPECT_NE(error_for("filters=8\n").find("t.cfg: no layer after [net]"), std::string::npos);
}

// The layers the catalog's models do not use (route groups, maxpool with stride 2, mish, relu), built from a
// small cfg with random weights and batch-norm statistics, written, and run by OpenCV DNN.
TEST(DarknetMatchesOpenCvLayers, RandomNetworkWithEveryLayerKind) {
  sf::test::TempDir dir;
  const fs::path cfg = dir / "every-layer.cfg";
  std::ofstream(cfg) << R"([net]
width=64
height=64
channels=3

[convolutional]
batch_normalize=1
filters=16
size=3
stride=2
pad=1
activation=mish

[route]
layers=-1
groups=2
group_id=1

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[route]
layers=-1,-2

[maxpool]
size=2
stride=2

[convolutional]
batch_normalize=1
filters=16
size=1
stride=1
pad=1
activation=relu

[shortcut]
from=-2
activation=linear

[dropout]
probability=.1

[convolutional]
size=1
stride=1
pad=1
filters=18
activation=linear

[yolo]
mask=0,1,2
anchors=4,8, 10,20, 30,40
classes=1
num=3

[route]
layers=-4

[upsample]
stride=2

[route]
layers=-1,0

[convolutional]
size=1
stride=1
pad=1
filters=18
activation=linear

[yolo]
mask=0,1,2
anchors=4,8, 10,20, 30,40
classes=1
num=3
)";
  torch::manual_seed(11);
  DarknetNetwork network(read_darknet_cfg(cfg));
  {
    torch::NoGradGuard no_grad;
    for (auto& item : network->named_buffers()) {
      if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0, 0.1);
      if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
    }
    for (auto& item : network->named_parameters())
      if (item.key().rfind("bn_", 0) == 0) item.value().uniform_(0.5, 1.5);
  }
  network->eval();
  network->save_weights(dir / "every-layer.weights");

  cv::dnn::Net net = cv::dnn::readNetFromDarknet(cfg.string(), (dir / "every-layer.weights").string());
  const torch::Tensor input = torch::rand({1, 3, 64, 64});
  net.setInput(cv::Mat({1, 3, 64, 64}, CV_32F, input.data_ptr<float>()));
  std::vector<cv::Mat> opencv;
  net.forward(opencv, std::vector<std::string>{"conv_8", "conv_13"});

  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> heads = network->forward(input);
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].sizes(), (std::vector<int64_t>{1, 18, 16, 16}));
  EXPECT_EQ(heads[1].sizes(), (std::vector<int64_t>{1, 18, 32, 32}));
  for (size_t i = 0; i < heads.size(); ++i) {
    const torch::Tensor expected = to_tensor(opencv[i]);
    ASSERT_EQ(heads[i].sizes(), expected.sizes());
    EXPECT_GT(expected.abs().max().item<double>(), 0.1);  // not a network of zeros
    EXPECT_LT(max_abs_difference(heads[i], expected), 2e-4) << "head " << i;
  }
}
