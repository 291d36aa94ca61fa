// The model catalog: parsing and its errors, the shipped models.yaml, and the checks of model files.
#include "sightflow/model_catalog.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>

using namespace sf;
namespace fs = std::filesystem;

namespace {

// A small valid catalog; the error tests replace one line of it.
const std::string kValid = R"(models:
  tiny:
    description: a test model
    task: detection
    format: darknet
    files:
      - role: model
        path: tiny/tiny.weights
        sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        source: made up for the test
      - role: config
        path: tiny/tiny.cfg
      - role: labels
        path: tiny/names.txt
    input: [416, 256]
    preprocess:
      resize: letterbox
      align: center
      pad: 0
      rgb: true
      scale: 0.5
      mean: [1, 2, 3]
      std: 2
    decoder: darknet-yolo
    decoder_options: {scores_include_objectness: false}
    max_batch: 4
    thresholds: {score: 0.25, nms: 0.5}
  crop:
    task: classification
    format: onnx
    files: [{role: model, path: c.onnx}]
    input: [224, 224]
    preprocess: {resize: center-crop, crop_from: 256, mean: [0.5, 0.25, 0.125], std: [0.1, 0.2, 0.3]}
    decoder: classification
    max_batch: 1
    thresholds: {score: 0, nms: 1}
    classes: [cat, dog]
    top_k: 2
  strides:
    task: detection
    format: onnx
    files: [{role: model, path: y.onnx}]
    input: [320, 320]
    preprocess: {resize: stretch}
    decoder: yolox
    decoder_options: {strides: [8, 16, 32]}
    max_batch: 1
    thresholds: {score: 0.4, nms: 0.45}
    classes: [person]
)";

// kValid with the first line containing `from` replaced by `to`.
std::string with(const std::string& from, const std::string& to) {
  std::string text = kValid;
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Expects ModelCatalog::parse to fail with a message containing every fragment.
void expect_catalog_error(const std::string& yaml, const std::vector<std::string>& fragments) {
  try {
    ModelCatalog::parse(yaml, "test.yaml");
    ADD_FAILURE() << "no error for:\n" << yaml;
  } catch (const CatalogError& e) {
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

// A fresh temporary folder, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = fs::temp_directory_path() /
            ("sightflow-catalog-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

  void write(const std::string& relative, const std::string& bytes) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << bytes;
  }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

const std::string kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Sets an environment variable for the lifetime of the object, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST(ModelCatalog, ParsesEveryFieldOfAnEntry) {
  auto catalog = ModelCatalog::parse(kValid, "test.yaml");
  EXPECT_EQ(catalog.names(), (std::vector<std::string>{"tiny", "crop", "strides"}));
  const CatalogEntry* e = catalog.find("tiny");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "tiny");
  EXPECT_EQ(e->description, "a test model");
  EXPECT_EQ(e->task, "detection");
  EXPECT_EQ(e->format, "darknet");
  EXPECT_EQ(e->decoder, "darknet-yolo");
  ASSERT_EQ(e->files.size(), 3u);
  ASSERT_NE(e->file("model"), nullptr);
  EXPECT_EQ(e->file("model")->path, "tiny/tiny.weights");
  EXPECT_EQ(e->file("model")->sha256, kAbcSha256);
  EXPECT_EQ(e->file("model")->source, "made up for the test");
  ASSERT_NE(e->file("config"), nullptr);
  EXPECT_EQ(e->file("config")->path, "tiny/tiny.cfg");
  EXPECT_EQ(e->file("config")->sha256, "");
  EXPECT_EQ(e->file("labels")->path, "tiny/names.txt");
  const auto& p = e->preprocess;
  EXPECT_EQ(p.input, cv::Size(416, 256));
  EXPECT_EQ(p.resize, ResizeMode::Letterbox);
  EXPECT_TRUE(p.letterbox_center);
  EXPECT_DOUBLE_EQ(p.pad_value, 0);
  EXPECT_TRUE(p.rgb);
  EXPECT_DOUBLE_EQ(p.scale, 0.5);
  EXPECT_EQ(p.mean, cv::Scalar(1, 2, 3, 0));
  EXPECT_EQ(p.std, cv::Scalar(2, 2, 2, 1));  // one number applies to every channel
  EXPECT_EQ(e->max_batch, 4);
  EXPECT_FLOAT_EQ(e->score_threshold, 0.25f);
  EXPECT_FLOAT_EQ(e->nms_threshold, 0.5f);
  EXPECT_TRUE(e->class_names.empty());  // from the labels file, read by the model loader
  EXPECT_EQ(e->decoder_options, (std::map<std::string, std::string>{{"scores_include_objectness", "false"}}));

  const CatalogEntry* c = catalog.find("crop");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->description, "");
  EXPECT_EQ(c->preprocess.resize, ResizeMode::CenterCrop);
  EXPECT_EQ(c->preprocess.crop_from, 256);
  EXPECT_FALSE(c->preprocess.rgb);
  EXPECT_DOUBLE_EQ(c->preprocess.scale, 1.0);
  EXPECT_EQ(c->preprocess.mean, cv::Scalar(0.5, 0.25, 0.125, 0));
  EXPECT_EQ(c->preprocess.std, cv::Scalar(0.1, 0.2, 0.3, 1));
  EXPECT_EQ(c->class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(c->top_k, 2);
  EXPECT_FLOAT_EQ(c->score_threshold, 0.f);
  EXPECT_EQ(c->file("labels"), nullptr);

  const CatalogEntry* s = catalog.find("strides");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->decoder_options.at("strides"), "8,16,32");
  EXPECT_EQ(s->preprocess.resize, ResizeMode::Stretch);
  auto one_stride = ModelCatalog::parse(with("{strides: [8, 16, 32]}", "{strides: 32}"), "test.yaml");
  EXPECT_EQ(one_stride.find("strides")->decoder_options.at("strides"), "32");
  EXPECT_EQ(catalog.find("nope"), nullptr);
}

TEST(ModelCatalog, ResizeModeNamesRoundTrip) {
  for (auto mode : {ResizeMode::Stretch, ResizeMode::Letterbox, ResizeMode::CenterCrop})
    EXPECT_EQ(parse_resize_mode(to_string(mode)), mode);
  EXPECT_THROW(parse_resize_mode("crop"), std::invalid_argument);
}

TEST(ModelCatalog, UnknownKeyIsAnErrorWithItsLine) {
  // "decoder_option" (a typo) is on line 25 of kValid.
  expect_catalog_error(
      with("decoder_options:", "decoder_option:"),
      {"test.yaml:25: ", "models.tiny.decoder_option", "unknown key", "decoder_options", "thresholds"});
  expect_catalog_error(with("      pad: 0", "      padding: 0"),
                       {"test.yaml:19: ", "models.tiny.preprocess.padding", "unknown key", "crop_from"});
  expect_catalog_error(with("        source: made up", "        origin: made up"),
                       {"test.yaml:10: ", "models.tiny.files[0].origin", "sha256, source"});
  expect_catalog_error("modles:\n  a: {}\n", {"test.yaml:1: ", "modles", "unknown key", "models"});
  // Decoder options are checked against what the decoder reads.
  expect_catalog_error(with("{strides: [8, 16, 32]}", "{stride: [8, 16, 32]}"),
                       {"models.strides.decoder_options.stride", "strides"});
}

TEST(ModelCatalog, TrackerDefaultsAreNumbersPerOption) {
  auto catalog = ModelCatalog::parse(
      with("    max_batch: 4\n", "    max_batch: 4\n    tracker: {low: 0.3, min_hits: 2}\n"), "test.yaml");
  const auto* e = catalog.find("tiny");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->tracker, (std::map<std::string, double>{{"low", 0.3}, {"min_hits", 2}}));
  EXPECT_TRUE(catalog.find("crop")->tracker.empty());
  expect_catalog_error(with("    max_batch: 4\n", "    max_batch: 4\n    tracker: {low: often}\n"),
                       {"test.yaml:", "models.tiny.tracker.low"});
  expect_catalog_error(with("    max_batch: 4\n", "    max_batch: 4\n    tracker: [0.3]\n"),
                       {"models.tiny.tracker", "option: number"});
}

TEST(ModelCatalog, BadEnumValuesNameTheChoices) {
  expect_catalog_error(with("task: detection", "task: detect"),
                       {"test.yaml:4: ", "models.tiny.task", "'detect'", "face-detection"});
  expect_catalog_error(with("format: darknet", "format: pytorch"), {"models.tiny.format", "onnx, darknet"});
  expect_catalog_error(with("decoder: darknet-yolo", "decoder: yolo"), {"models.tiny.decoder", "yunet"});
  expect_catalog_error(with("resize: letterbox", "resize: fit"),
                       {"test.yaml:17: ", "models.tiny.preprocess.resize", "center-crop"});
  expect_catalog_error(with("align: center", "align: middle"), {"preprocess.align", "top-left, center"});
  expect_catalog_error(with("role: config", "role: cfg"), {"models.tiny.files[1].role", "model, config"});
}

TEST(ModelCatalog, MissingRequiredFieldsAreNamed) {
  expect_catalog_error(with("    task: detection\n", ""), {"test.yaml:3: ", "models.tiny.task", "missing"});
  expect_catalog_error(with("    max_batch: 4\n", ""), {"models.tiny.max_batch", "missing"});
  expect_catalog_error(with("    input: [416, 256]\n", ""),
                       {"models.tiny.input", "missing", "[width, height]"});
  expect_catalog_error(with("        path: tiny/tiny.cfg\n", ""), {"models.tiny.files[1].path", "missing"});
  expect_catalog_error(with("{score: 0.25, nms: 0.5}", "{score: 0.25}"), {"thresholds.nms", "missing"});
  expect_catalog_error(with("      resize: letterbox\n", ""), {"preprocess.resize", "missing"});
  // No class names at all, and no model file.
  expect_catalog_error(with("    classes: [cat, dog]\n", ""), {"models.crop", "no class names"});
  expect_catalog_error(with("{role: model, path: y.onnx}", "{role: labels, path: y.txt}"),
                       {"models.strides.files", "role: model"});
  // A darknet model needs its cfg.
  expect_catalog_error(with("      - role: config\n        path: tiny/tiny.cfg\n", ""),
                       {"models.tiny.files", "role: config"});
}

TEST(ModelCatalog, BadValuesAreRefused) {
  expect_catalog_error(with("sha256: ba7816bf", "sha256: BA7816BF"),
                       {"test.yaml:9: ", "files[0].sha256", "64 lowercase hex"});
  expect_catalog_error(
      with("sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256: ba7816bf"),
      {"files[0].sha256", "64 lowercase hex", "'ba7816bf'"});
  expect_catalog_error(with("[416, 256]", "[416, 0]"), {"models.tiny.input", "positive"});
  expect_catalog_error(with("[416, 256]", "[416]"), {"models.tiny.input", "[width, height]"});
  expect_catalog_error(with("max_batch: 4", "max_batch: 0"), {"models.tiny.max_batch", "at least 1"});
  expect_catalog_error(with("max_batch: 4", "max_batch: many"),
                       {"models.tiny.max_batch", "an integer", "'many'"});
  expect_catalog_error(with("score: 0.25", "score: 1.5"), {"thresholds.score", "[0, 1]"});
  expect_catalog_error(with("nms: 0.5", "nms: -0.1"), {"thresholds.nms", "[0, 1]"});
  expect_catalog_error(with("mean: [1, 2, 3]", "mean: [1, 2]"), {"preprocess.mean", "1 or 3 numbers"});
  expect_catalog_error(with("std: 2", "std: [1, 0, 1]"), {"preprocess.std", "zero"});
  expect_catalog_error(with("scale: 0.5", "scale: 1/255"), {"preprocess.scale", "a number"});
  expect_catalog_error(with("crop_from: 256", "crop_from: 200"), {"preprocess.crop_from", "224"});
  // Options of another resize mode would be ignored: refused.
  expect_catalog_error(with("{resize: stretch}", "{resize: stretch, pad: 0}"),
                       {"preprocess.pad", "only used with resize: letterbox"});
  expect_catalog_error(with("{strides: [8, 16, 32]}", "{strides: [8, 0, 32]}"), {"strides", "positive"});
  expect_catalog_error(with("path: tiny/tiny.cfg", "path: /abs/tiny.cfg"), {"files[1].path", "relative"});
  expect_catalog_error(with("- role: labels", "- role: config"), {"files[2].role", "a second 'config'"});
  expect_catalog_error(with("decoder: classification", "decoder: ssd"),
                       {"models.crop.decoder", "classification"});
  // yaml-cpp keeps repeated keys; the catalog refuses them.
  expect_catalog_error(with("    top_k: 2\n", "    classes: [x]\n"),
                       {"test.yaml:38: ", "models.crop.classes", "repeated"});
  expect_catalog_error(with("  crop:", "  tiny:"), {"test.yaml:28: ", "models.tiny", "repeated"});
  expect_catalog_error(with("    classes: [person]\n", "    classes: [person]\n    top_k: 0\n"),
                       {"models.strides.top_k", "at least 1"});
}

// Found by fuzz/catalog_fuzzer: a key that is a list escaped as yaml-cpp's exception, without file:line.
TEST(ModelCatalog, KeysThatAreNotTextAreErrorsWithTheirLine) {
  expect_catalog_error("models:\n  m:\n    task: detection\n    preprocess: {[1, 2]: 3}\n",
                       {"test.yaml:4: ", "a key must be text", "a list"});
  expect_catalog_error("models:\n  ? {a: 1}\n  : {}\n", {"test.yaml:2: ", "a key must be text", "a mapping"});
}

TEST(ModelCatalog, ReportsSyntaxErrorsAndUnreadableFiles) {
  expect_catalog_error("models:\n  a: [1, 2\n", {"test.yaml:", "not valid YAML"});
  expect_catalog_error("- a\n- b\n", {"test.yaml", "models"});
  expect_catalog_error("models: {}\n", {"test.yaml:1: ", "models", "non-empty"});
  try {
    ModelCatalog::load("/nonexistent/models.yaml");
    ADD_FAILURE() << "no error";
  } catch (const CatalogError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/models.yaml"), std::string::npos) << e.what();
  }
}

TEST(ModelCatalog, ShippedCatalogHasTheSevenModels) {
  auto catalog = ModelCatalog::load(SIGHTFLOW_SOURCE_DIR "/models.yaml");
  EXPECT_EQ(catalog.names(),
            (std::vector<std::string>{"yolox-nano", "yolo-fastest", "yolo-fastest-xl", "yolo-fastest-body",
                                      "yunet", "res10-face", "mobilenetv2"}));
  struct Expected {
    const char* name;
    const char* decoder;
    int max_batch;
  };
  const std::vector<Expected> expected = {{"yolox-nano", "yolox", 1},
                                          {"yolo-fastest", "darknet-yolo", 8},
                                          {"yolo-fastest-xl", "darknet-yolo", 8},
                                          {"yolo-fastest-body", "darknet-yolo", 8},
                                          {"yunet", "yunet", 1},
                                          {"res10-face", "ssd", 1},
                                          {"mobilenetv2", "classification", 1}};
  for (auto [name, decoder, max_batch] : expected) {
    const CatalogEntry* e = catalog.find(name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(e->decoder, decoder) << name;
    EXPECT_EQ(e->max_batch, max_batch) << name;
    for (const auto& f : e->files) {
      EXPECT_EQ(f.sha256.size(), 64u) << name << " " << f.path;
      EXPECT_FALSE(f.source.empty()) << name << " " << f.path;
    }
  }
  const auto* yolox = catalog.find("yolox-nano");
  EXPECT_EQ(yolox->decoder_options.at("strides"), "8,16,32");
  EXPECT_EQ(yolox->preprocess.resize, ResizeMode::Letterbox);
  EXPECT_FALSE(yolox->preprocess.letterbox_center);
  EXPECT_EQ(catalog.find("yolo-fastest-body")->class_names, std::vector<std::string>{"person"});
  EXPECT_EQ(catalog.find("yolo-fastest-body")->file("labels"), nullptr);
  EXPECT_EQ(catalog.find("res10-face")->preprocess.mean, cv::Scalar(104, 177, 123, 0));
  EXPECT_EQ(catalog.find("res10-face")->decoder_options.at("class_offset"), "1");
  const auto* mobilenet = catalog.find("mobilenetv2");
  EXPECT_EQ(mobilenet->preprocess.resize, ResizeMode::CenterCrop);
  EXPECT_EQ(mobilenet->preprocess.crop_from, 256);
  EXPECT_NEAR(mobilenet->preprocess.scale, 1 / 255.0, 1e-15);
  EXPECT_EQ(mobilenet->top_k, 5);
  EXPECT_EQ(mobilenet->decoder_options.at("softmax"), "true");
}

TEST(ModelFiles, Sha256OfKnownContents) {
  ScratchDir dir;
  dir.write("abc.txt", "abc");
  dir.write("empty.txt", "");
  EXPECT_EQ(sha256_file(dir.path() / "abc.txt"), kAbcSha256);
  EXPECT_EQ(sha256_file(dir.path() / "empty.txt"), kEmptySha256);
  // Several 1 MiB chunks; the digest of 3 MiB of 'a' comes from sha256sum.
  dir.write("big.bin", std::string(3 << 20, 'a'));
  EXPECT_EQ(sha256_file(dir.path() / "big.bin"),
            "6f850bc94ae6f7de14297c01616c36d712d22864497b28a63b81d776b035e656");
  EXPECT_THROW(sha256_file(dir.path() / "none.bin"), ModelFileError);
  EXPECT_THROW(sha256_file(dir.path()), ModelFileError);  // a folder
}

TEST(ModelFiles, CheckFileReportsEachState) {
  ScratchDir dir;
  dir.write("m/abc.bin", "abc");
  auto ok = check_file(dir.path(), {"model", "m/abc.bin", kAbcSha256, "test"});
  EXPECT_EQ(ok.state, FileState::Ok);
  EXPECT_EQ(ok.path, dir.path() / "m/abc.bin");
  EXPECT_TRUE(ok.path.is_absolute());
  EXPECT_EQ(ok.actual_sha256, kAbcSha256);

  auto bad = check_file(dir.path(), {"model", "m/abc.bin", kEmptySha256, "test"});
  EXPECT_EQ(bad.state, FileState::Mismatch);
  EXPECT_EQ(bad.actual_sha256, kAbcSha256);

  auto unchecked = check_file(dir.path(), {"model", "m/abc.bin", "", "test"});
  EXPECT_EQ(unchecked.state, FileState::Unchecked);

  auto missing = check_file(dir.path(), {"model", "m/none.bin", kAbcSha256, "test"});
  EXPECT_EQ(missing.state, FileState::Missing);
  EXPECT_EQ(missing.path, dir.path() / "m/none.bin");
}

TEST(ModelFiles, RequireFilesReturnsPathsOrExplainsTheProblem) {
  ScratchDir dir;
  dir.write("t/t.weights", "abc");
  dir.write("t/t.cfg", "");
  CatalogEntry entry;
  entry.name = "tiny";
  entry.files = {{"model", "t/t.weights", kAbcSha256, "GitHub someone/tiny @ 1234"},
                 {"config", "t/t.cfg", "", "GitHub someone/tiny @ 1234"}};
  auto paths = require_files(dir.path(), entry);
  EXPECT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths.at("model"), dir.path() / "t/t.weights");
  EXPECT_EQ(paths.at("config"), dir.path() / "t/t.cfg");

  entry.files.push_back({"labels", "t/names.txt", kAbcSha256, "the tiny release page"});
  try {
    require_files(dir.path() / "", entry);  // a trailing '/' is not shown
    ADD_FAILURE() << "no error for a missing file";
  } catch (const ModelFileError& e) {
    std::string what = e.what();
    for (const std::string& f : {std::string("model 'tiny'"), std::string("t/names.txt not found in"),
                                 dir.path().string() + " (set --models", std::string("SIGHTFLOW_MODELS"),
                                 std::string("it comes from: the tiny release page")})
      EXPECT_NE(what.find(f), std::string::npos) << what;
  }

  entry.files.pop_back();
  entry.files[0].sha256 = kEmptySha256;
  try {
    require_files(dir.path(), entry);
    ADD_FAILURE() << "no error for a damaged file";
  } catch (const ModelFileError& e) {
    std::string what = e.what();
    for (const std::string& f :
         {std::string("model 'tiny'"), std::string("t/t.weights"), std::string("has sha256 ") + kAbcSha256,
          std::string("the catalog expects ") + kEmptySha256, std::string("damaged or a different version"),
          std::string("it comes from: GitHub someone/tiny @ 1234")})
      EXPECT_NE(what.find(f), std::string::npos) << what;
  }
}

TEST(ModelLocations, EnvironmentThenProcessWideSetting) {
  {
    ScopedEnv catalog("SIGHTFLOW_CATALOG", "/etc/cat.yaml");
    ScopedEnv models("SIGHTFLOW_MODELS", "/srv/models");
    auto l = ModelLocations::from_environment();
    EXPECT_EQ(l.catalog, "/etc/cat.yaml");
    EXPECT_EQ(l.models_dir, "/srv/models");
  }
  {
    ScopedEnv catalog("SIGHTFLOW_CATALOG", "");
    ScopedEnv models("SIGHTFLOW_MODELS", nullptr);
    auto l = ModelLocations::from_environment();
    // The build's defaults: the catalog in the source tree, the models folder beside it.
    EXPECT_EQ(l.catalog, SIGHTFLOW_SOURCE_DIR "/models.yaml");
    EXPECT_FALSE(l.models_dir.empty());
  }
  auto before = model_locations();
  set_model_locations({"/x/models.yaml", "/x/models"});
  EXPECT_EQ(model_locations().catalog, "/x/models.yaml");
  EXPECT_EQ(model_locations().models_dir, "/x/models");
  set_model_locations(before);
}

TEST(ModelFiles, SharedModelsMatchTheShippedCatalog) {
  fs::path models_dir = SIGHTFLOW_SHARED_DIR "/models";
  ASSERT_TRUE(fs::is_directory(models_dir)) << "no model files in " << models_dir << " (see README: models)";
  auto catalog = ModelCatalog::load(SIGHTFLOW_SOURCE_DIR "/models.yaml");
  for (const auto& entry : catalog.entries()) {
    for (const auto& file : entry.files) {
      auto check = check_file(models_dir, file);
      EXPECT_EQ(check.state, FileState::Ok) << entry.name << ": " << check.path << " has sha256 "
                                            << check.actual_sha256 << ", expected " << file.sha256;
    }
    EXPECT_NO_THROW(require_files(models_dir, entry)) << entry.name;
  }
}

TEST(ModelCatalog, ServingSettingsAreReadAndChecked) {
  auto defaults = ModelCatalog::parse(kValid, "test.yaml").find("tiny")->serving;
  EXPECT_EQ(defaults.batch_size, 0);  // the model's max_batch
  EXPECT_DOUBLE_EQ(defaults.max_batch_delay_ms, 10);
  EXPECT_EQ(defaults.instances, 1);
  auto set = ModelCatalog::parse(
      with("max_batch: 4",
           "max_batch: 4\n    serving: {batch_size: 2, max_batch_delay_ms: 25, instances: 3}"),
      "test.yaml");
  auto s = set.find("tiny")->serving;
  EXPECT_EQ(s.batch_size, 2);
  EXPECT_DOUBLE_EQ(s.max_batch_delay_ms, 25);
  EXPECT_EQ(s.instances, 3);
  expect_catalog_error(with("max_batch: 4", "max_batch: 4\n    serving: {batch_size: 5}"),
                       {"models.tiny.serving.batch_size", "max_batch = 4"});
  expect_catalog_error(with("max_batch: 4", "max_batch: 4\n    serving: {instances: 0}"),
                       {"models.tiny.serving.instances", "[1, 64]"});
  expect_catalog_error(with("max_batch: 4", "max_batch: 4\n    serving: {workers: 2}"),
                       {"models.tiny.serving", "workers"});
}
