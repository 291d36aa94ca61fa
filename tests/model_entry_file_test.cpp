// Model entry files (`--detector PATH.yaml`): one catalog entry whose files lie beside it, as
// `sightflow tune --finetune` writes for a tuned model.
#include "sightflow/model_entry_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/videoio.hpp>
#include <span>

#include "sightflow/config.hpp"
#include "sightflow/model.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kBody = fs::path(SIGHTFLOW_SHARED_DIR) / "models" / "yolo-fastest-1.1-body";

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string body_entry(const std::string& name) {
  return "  " + name + R"(:
    task: detection
    format: darknet
    files:
      - {role: model, path: tuned.weights}
      - {role: config, path: tuned.cfg}
    input: [320, 320]
    preprocess: {resize: stretch, rgb: true, scale: 0.00392156862745098}
    decoder: darknet-yolo
    decoder_options: {scores_include_objectness: true}
    max_batch: 8
    thresholds: {score: 0.4, nms: 0.45}
    tracker: {low: 0.3}
    classes: [person]
)";
}

}  // namespace

TEST(ModelEntryFile, RunsByItsPathWithFilesBesideIt) {
  sf::test::TempDir dir;
  fs::create_directories(dir / "tuned");
  fs::copy_file(kBody / "yolo-fastest-1.1_body.weights", dir / "tuned" / "tuned.weights");
  fs::copy_file(kBody / "yolo-fastest-1.1_body.cfg", dir / "tuned" / "tuned.cfg");
  const fs::path entry = dir / "tuned" / "cam.yaml";
  write(entry, "models:\n" + body_entry("cam-tuned"));
  EXPECT_TRUE(sf::is_model_entry_file(entry.string()));
  EXPECT_FALSE(sf::is_model_entry_file("yolo-fastest-body"));

  const sf::CatalogEntry loaded = sf::load_model_entry_file(entry);
  EXPECT_EQ(loaded.name, "cam-tuned");
  EXPECT_EQ(loaded.file("model")->path, (dir / "tuned" / "tuned.weights").string())
      << "not relative to the file";

  // The files are found beside the entry, not under the models folder; it detects as the catalog model.
  sf::ModelLocations elsewhere = sf::model_locations();
  elsewhere.models_dir = dir / "no-models-here";
  sf::set_model_locations(elsewhere);
  cv::Mat frame;
  cv::VideoCapture(sf::test::vtest_path()) >> frame;
  ASSERT_FALSE(frame.empty());
  auto model = sf::create_model(entry.string(), {});
  EXPECT_EQ(model->info().class_names, std::vector<std::string>{"person"});
  EXPECT_FALSE(model->infer(std::span<const cv::Mat>(&frame, 1)).at(0).detections.empty());
  sf::set_model_locations(sf::ModelLocations::from_environment());

  // The builder reads it as the catalog model it is: its tracker defaults reach the track stage.
  sf::AlgorithmConfig algorithm;
  algorithm.detector = entry.string();
  algorithm.stages = {{"track", nlohmann::json::object()}};
  const auto stages = sf::effective_stages(algorithm);
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0].options.value("low", 0.0), 0.3);
}

TEST(ModelEntryFile, RefusesOtherThanOneEntryAndNamesTheFile) {
  sf::test::TempDir dir;
  const fs::path two = dir / "two.yaml";
  write(two, "models:\n" + body_entry("a") + body_entry("b"));
  try {
    sf::load_model_entry_file(two);
    FAIL() << "two entries were accepted";
  } catch (const sf::CatalogError& e) {
    EXPECT_NE(std::string(e.what()).find(two.string() + ": a model entry file holds one model, not 2"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(sf::load_model_entry_file(dir / "missing.yaml"), sf::CatalogError);
  // Files it names that are not beside it: the missing file is named.
  const fs::path alone = dir / "alone.yaml";
  write(alone, "models:\n" + body_entry("alone"));
  try {
    sf::create_model(alone.string(), {});
    FAIL() << "an entry without its files made a model";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "tuned.weights").string()), std::string::npos) << e.what();
  }
}
