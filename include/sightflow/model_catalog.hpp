#pragma once
// The model catalog: one YAML entry per DNN model (files with sha256 and origin, format, input size,
// pre-processing, decoder, classes, thresholds, batch support). Model-specific numbers live in the
// catalog only; adding a model of a supported family is adding an entry, with no rebuild.
//
// Where things are: the catalog file is --catalog / $SIGHTFLOW_CATALOG / the models.yaml installed with
// sightflow; model files are looked up relative to --models / $SIGHTFLOW_MODELS.
#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace sf {

enum class ResizeMode {
  Stretch,     // resize to the input size, ignoring the aspect ratio
  Letterbox,   // keep the aspect ratio, pad the rest with pad_value
  CenterCrop,  // resize the shorter side to crop_from, then cut the centre input-size window
};
ResizeMode parse_resize_mode(const std::string& name);  // "stretch" | "letterbox" | "center-crop"
std::string to_string(ResizeMode mode);

struct PreprocessSpec {
  cv::Size input{320, 320};
  ResizeMode resize = ResizeMode::Stretch;
  bool letterbox_center = false;  // letterbox: image at the centre (true) or the top-left corner (false)
  double pad_value = 114;         // letterbox fill, in pixel units
  int crop_from = 0;              // center-crop: shorter side before the crop (0: the input's shorter side)
  bool rgb = false;               // swap BGR frames to RGB
  // Each input value is (pixel * scale - mean[c]) / std[c], in the network's channel order.
  double scale = 1.0;
  cv::Scalar mean{0, 0, 0, 0};
  cv::Scalar std{1, 1, 1, 1};
};
// One file a model needs, relative to the models folder.
struct ModelFile {
  std::string role;    // "model" (weights / graph), "config" (cfg, pbtxt, prototxt) or "labels"
  std::string path;    // relative to the models folder
  std::string sha256;  // lowercase hex; empty: not checked
  std::string source;  // where the file comes from (shown when it is missing or damaged)
};

// How `sightflow serve` batches a model's HTTP requests (TorchServe's batch_size / max_batch_delay).
struct ServingSpec {
  int batch_size = 0;              // images per forward pass at most; 0: the model's max_batch
  double max_batch_delay_ms = 10;  // how long the first request of a batch waits for company
  int instances = 1;               // model copies serving in parallel (each runs one pass at a time)
};

struct CatalogEntry {
  std::string name;
  std::string description;
  std::string task;     // "detection", "face-detection" or "classification"
  std::string format;   // "onnx", "darknet", "tensorflow" or "caffe"
  std::string decoder;  // "yolox", "darknet-yolo", "ssd", "classification" or "yunet"
  std::vector<ModelFile> files;
  PreprocessSpec preprocess;
  int max_batch = 1;                     // largest batch the model runs correctly in one forward pass
  std::vector<std::string> class_names;  // inline list; else read from the "labels" file
  float score_threshold = 0.5f;
  float nms_threshold = 0.45f;  // per-class NMS IoU (detection decoders without NMS in the graph)
  int top_k = 5;                // classification: how many labels to report
  ServingSpec serving;
  // Decoder options: yolox "strides"; darknet-yolo "scores_include_objectness"; ssd "class_offset";
  // classification "softmax". Kept as text, read by the decoder's model.
  std::map<std::string, std::string> decoder_options;
  // The track stage's defaults for this model's boxes (its score scale differs from model to model):
  // option -> number, under the options a run gives (bench/RESULTS.md has how they were chosen).
  std::map<std::string, double> tracker;

  const ModelFile* file(const std::string& role) const;  // nullptr when absent
};

// A catalog that cannot be read; what() names the file, line and field.
class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A model file that is missing or does not match its sha256; what() names it and where it comes from.
class ModelFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ModelCatalog {
 public:
  static ModelCatalog load(const std::filesystem::path& path);
  static ModelCatalog parse(const std::string& yaml_text, const std::string& origin = "catalog");
  const CatalogEntry* find(const std::string& name) const;  // nullptr when unknown
  const std::vector<CatalogEntry>& entries() const { return entries_; }
  std::vector<std::string> names() const;

 private:
  std::vector<CatalogEntry> entries_;
};

// Where the catalog and the model files are. Defaults: $SIGHTFLOW_CATALOG or the built-in catalog path;
// $SIGHTFLOW_MODELS or ../shared/models next to the source tree.
struct ModelLocations {
  std::filesystem::path catalog;
  std::filesystem::path models_dir;
  static ModelLocations from_environment();
};
// The process-wide locations create_model() uses; set once by the CLI from --catalog / --models.
void set_model_locations(const ModelLocations& locations);
ModelLocations model_locations();

// Lowercase hex sha256 of a file's bytes. Throws ModelFileError when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

enum class FileState { Ok, Missing, Mismatch, Unchecked };
struct FileCheck {
  FileState state = FileState::Missing;
  std::filesystem::path path;  // absolute path looked at
  std::string actual_sha256;   // when read
};
// Checks one catalog file under models_dir (hashing it when a sha256 is recorded).
FileCheck check_file(const std::filesystem::path& models_dir, const ModelFile& file);
// Checks all files of an entry; throws ModelFileError naming the first bad file, its expected location
// and its source. Returns the absolute paths by role.
std::map<std::string, std::filesystem::path> require_files(const std::filesystem::path& models_dir,
                                                           const CatalogEntry& entry);

}  // namespace sf
