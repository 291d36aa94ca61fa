// The model catalog: models.yaml -> CatalogEntry, checked strictly (unknown keys, enum values, ranges) so
// that a typo in a user's entry is reported with its line instead of silently becoming a default.
#include "sightflow/model_catalog.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "common/yaml_reader.hpp"

#ifndef SIGHTFLOW_DEFAULT_CATALOG
#error "SIGHTFLOW_DEFAULT_CATALOG (the installed models.yaml) must be defined by the build"
#endif
#ifndef SIGHTFLOW_DEFAULT_MODELS_DIR
#error "SIGHTFLOW_DEFAULT_MODELS_DIR (the default models folder) must be defined by the build"
#endif

namespace sf {
namespace {

const std::vector<std::string> kTasks = {"detection", "face-detection", "classification"};
const std::vector<std::string> kFormats = {"onnx", "darknet", "tensorflow", "caffe"};
const std::vector<std::string> kDecoders = {"yolox", "darknet-yolo", "ssd", "classification", "yunet"};
const std::vector<std::string> kResizeModes = {"stretch", "letterbox", "center-crop"};
const std::vector<std::string> kAligns = {"top-left", "center"};
const std::vector<std::string> kRoles = {"model", "config", "labels"};

// The decoder options each decoder's model reads (model_catalog.hpp); a new option is added here too, so
// that a misspelt option is an error rather than a silently ignored key.
enum class OptionKind { Bool, NonNegativeInt, PositiveIntList };
const std::map<std::string, std::map<std::string, OptionKind>> kDecoderOptions = {
    {"yolox", {{"strides", OptionKind::PositiveIntList}}},
    {"darknet-yolo", {{"scores_include_objectness", OptionKind::Bool}}},
    {"ssd", {{"class_offset", OptionKind::NonNegativeInt}}},
    {"classification", {{"softmax", OptionKind::Bool}}},
    {"yunet", {}},
};

using Reader = YamlReader<CatalogError>;

bool is_sha256_text(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_model_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::vector<ModelFile> read_files(const Reader& r, const YAML::Node& node, const std::string& field) {
  if (!node.IsSequence() || node.size() == 0)
    r.fail(node, field, "expected a non-empty list of {role, path, sha256, source}");
  std::vector<ModelFile> files;
  std::set<std::string> roles;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    auto item_field = field + "[" + std::to_string(i) + "]";
    r.only_keys(item, item_field, {"role", "path", "sha256", "source"});
    ModelFile f;
    f.role = r.choice(r.require(item, "role", item_field, join(kRoles, " | ")), item_field + ".role", kRoles);
    if (!roles.insert(f.role).second) r.fail(item, item_field + ".role", "a second '" + f.role + "' file");
    f.path = r.scalar<std::string>(r.require(item, "path", item_field, "relative to the models folder"),
                                   item_field + ".path");
    // Files live under the models folder so that --models / $SIGHTFLOW_MODELS moves all of them.
    if (f.path.empty() || std::filesystem::path(f.path).is_absolute())
      r.fail(item["path"], item_field + ".path", "must be a path relative to the models folder");
    f.sha256 = r.get<std::string>(item, "sha256", item_field, "");
    if (r.present(item, "sha256") && !is_sha256_text(f.sha256))
      r.fail(item["sha256"], item_field + ".sha256",
             "expected 64 lowercase hex digits, got '" + f.sha256 + "'");
    f.source = r.get<std::string>(item, "source", item_field, "");
    files.push_back(std::move(f));
  }
  if (!roles.count("model")) r.fail(node, field, "no file with role: model");
  return files;
}

PreprocessSpec read_preprocess(const Reader& r, const YAML::Node& entry, const std::string& entry_field) {
  const YAML::Node input = r.require(entry, "input", entry_field, "[width, height]");
  PreprocessSpec p;
  if (!input.IsSequence() || input.size() != 2)
    r.fail(input, entry_field + ".input", "expected [width, height]");
  p.input.width = r.scalar<int>(input[0], entry_field + ".input");
  p.input.height = r.scalar<int>(input[1], entry_field + ".input");
  if (p.input.width <= 0 || p.input.height <= 0)
    r.fail(input, entry_field + ".input", "width and height must be positive");

  auto field = entry_field + ".preprocess";
  const YAML::Node node = r.require(entry, "preprocess", entry_field, "a mapping with at least resize");
  r.only_keys(node, field, {"resize", "align", "pad", "rgb", "scale", "mean", "std", "crop_from"});
  auto resize =
      r.choice(r.require(node, "resize", field, join(kResizeModes, " | ")), field + ".resize", kResizeModes);
  p.resize = parse_resize_mode(resize);
  // Options of another resize mode are refused: they would be ignored, which hides a mistake.
  if (p.resize != ResizeMode::Letterbox) {
    for (const char* key : {"align", "pad"}) {
      if (r.present(node, key)) r.fail(node[key], field + "." + key, "only used with resize: letterbox");
    }
  }
  if (p.resize != ResizeMode::CenterCrop && r.present(node, "crop_from"))
    r.fail(node["crop_from"], field + ".crop_from", "only used with resize: center-crop");
  if (r.present(node, "align"))
    p.letterbox_center = r.choice(node["align"], field + ".align", kAligns) == "center";
  p.pad_value = r.get<double>(node, "pad", field, p.pad_value);
  if (p.pad_value < 0 || p.pad_value > 255) r.fail(node["pad"], field + ".pad", "must be within [0, 255]");
  p.crop_from = r.get<int>(node, "crop_from", field, 0);
  if (p.crop_from < 0 || (p.crop_from > 0 && p.crop_from < std::max(p.input.width, p.input.height)))
    r.fail(node["crop_from"], field + ".crop_from",
           "must be at least the larger input side (" +
               std::to_string(std::max(p.input.width, p.input.height)) + ") so that the crop fits");
  p.rgb = r.get<bool>(node, "rgb", field, false);
  p.scale = r.get<double>(node, "scale", field, 1.0);
  if (!(p.scale > 0)) r.fail(node["scale"], field + ".scale", "must be positive");

  // mean / std: one value for all channels or one per channel; the 4th channel is left neutral.
  auto per_channel = [&](const char* key, double neutral, cv::Scalar* out) {
    if (!r.present(node, key)) return;
    auto values = r.numbers(node[key], field + "." + key);
    if (values.size() != 1 && values.size() != 3)
      r.fail(node[key], field + "." + key, "expected 1 or 3 numbers, got " + std::to_string(values.size()));
    if (values.size() == 1) values.assign(3, values[0]);
    *out = cv::Scalar(values[0], values[1], values[2], neutral);
  };
  per_channel("mean", 0.0, &p.mean);
  per_channel("std", 1.0, &p.std);
  for (int c = 0; c < 3; ++c) {
    if (p.std[c] == 0) r.fail(node["std"], field + ".std", "must not be zero");
  }
  return p;
}

std::map<std::string, std::string> read_decoder_options(const Reader& r, const YAML::Node& node,
                                                        const std::string& field,
                                                        const std::string& decoder) {
  std::map<std::string, std::string> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  const auto& known = kDecoderOptions.at(decoder);
  std::set<std::string> allowed;
  for (const auto& [key, kind] : known) allowed.insert(key);
  if (!node.IsMap()) r.fail(node, field, "expected a mapping of option: value");
  if (allowed.empty() && node.size() > 0) r.fail(node, field, "decoder " + decoder + " takes no options");
  r.only_keys(node, field, allowed);
  for (const auto& kv : node) {
    auto key = kv.first.as<std::string>();
    auto key_field = field + "." + key;
    const YAML::Node value = kv.second;
    switch (known.at(key)) {
      case OptionKind::Bool:
        out[key] = r.scalar<bool>(value, key_field) ? "true" : "false";
        break;
      case OptionKind::NonNegativeInt: {
        int v = r.scalar<int>(value, key_field);
        if (v < 0) r.fail(value, key_field, "must not be negative");
        out[key] = std::to_string(v);
        break;
      }
      case OptionKind::PositiveIntList: {
        // Kept as comma-joined text ("8,16,32"), which is what the decoder's model parses; a single
        // integer is a list of one.
        if (!value.IsScalar() && (!value.IsSequence() || value.size() == 0))
          r.fail(value, key_field, "expected a list of integers");
        std::vector<std::string> items;
        auto add = [&](const YAML::Node& item) {
          int v = r.scalar<int>(item, key_field);
          if (v <= 0) r.fail(item, key_field, "values must be positive");
          items.push_back(std::to_string(v));
        };
        if (value.IsScalar()) {
          add(value);
        } else {
          for (const auto& item : value) add(item);
        }
        out[key] = join(items, ",");
        break;
      }
    }
  }
  return out;
}

float threshold(const Reader& r, const YAML::Node& map, const std::string& key, const std::string& field) {
  auto node = r.require(map, key, field, "a number within [0, 1]");
  auto value = r.scalar<double>(node, field + "." + key);
  if (!(value >= 0 && value <= 1)) r.fail(node, field + "." + key, "must be within [0, 1]");
  return static_cast<float>(value);
}

CatalogEntry read_entry(const Reader& r, const std::string& name, const YAML::Node& node,
                        const std::string& field) {
  r.only_keys(node, field,
              {"description", "task", "format", "files", "input", "preprocess", "decoder", "decoder_options",
               "max_batch", "thresholds", "classes", "top_k", "serving", "tracker"});
  CatalogEntry e;
  e.name = name;
  e.description = r.get<std::string>(node, "description", field, "");
  e.task = r.choice(r.require(node, "task", field, join(kTasks, " | ")), field + ".task", kTasks);
  e.format = r.choice(r.require(node, "format", field, join(kFormats, " | ")), field + ".format", kFormats);
  e.files = read_files(r, r.require(node, "files", field, "a list of {role, path, sha256, source}"),
                       field + ".files");
  if ((e.format == "darknet" || e.format == "caffe") && !e.file("config"))
    r.fail(node["files"], field + ".files",
           "a " + e.format + " model needs a file with role: config (" +
               (e.format == "darknet" ? ".cfg" : ".prototxt") + ")");
  e.preprocess = read_preprocess(r, node, field);
  e.decoder =
      r.choice(r.require(node, "decoder", field, join(kDecoders, " | ")), field + ".decoder", kDecoders);
  if ((e.task == "classification") != (e.decoder == "classification"))
    r.fail(node["decoder"], field + ".decoder",
           "task " + e.task + " does not go with decoder " + e.decoder +
               " (classification tasks use the classification decoder, and only they do)");
  e.decoder_options = read_decoder_options(r, node["decoder_options"], field + ".decoder_options", e.decoder);

  auto batch = r.require(node, "max_batch", field, "the largest batch the model runs correctly, at least 1");
  e.max_batch = r.scalar<int>(batch, field + ".max_batch");
  if (e.max_batch < 1) r.fail(batch, field + ".max_batch", "must be at least 1");

  if (r.present(node, "serving")) {
    auto serving = node["serving"];
    auto sfield = field + ".serving";
    r.only_keys(serving, sfield, {"batch_size", "max_batch_delay_ms", "instances"});
    e.serving.batch_size = r.get<int>(serving, "batch_size", sfield, e.serving.batch_size);
    if (e.serving.batch_size < 0 || e.serving.batch_size > e.max_batch)
      r.fail(serving["batch_size"], sfield + ".batch_size",
             "must be within [0, max_batch = " + std::to_string(e.max_batch) + "]");
    e.serving.max_batch_delay_ms =
        r.get<double>(serving, "max_batch_delay_ms", sfield, e.serving.max_batch_delay_ms);
    if (!(e.serving.max_batch_delay_ms >= 0 && e.serving.max_batch_delay_ms <= 10000))
      r.fail(serving["max_batch_delay_ms"], sfield + ".max_batch_delay_ms", "must be within [0, 10000]");
    e.serving.instances = r.get<int>(serving, "instances", sfield, e.serving.instances);
    if (e.serving.instances < 1 || e.serving.instances > 64)
      r.fail(serving["instances"], sfield + ".instances", "must be within [1, 64]");
  }

  if (r.present(node, "tracker")) {
    // Names and ranges are the track stage's to check (when a run builds it); here: numbers only.
    auto tracker = node["tracker"];
    if (!tracker.IsMap()) r.fail(tracker, field + ".tracker", "expected a mapping of option: number");
    for (const auto& item : tracker) {
      auto name = r.scalar<std::string>(item.first, field + ".tracker");
      e.tracker[name] = r.scalar<double>(item.second, field + ".tracker." + name);
    }
  }

  auto thresholds = r.require(node, "thresholds", field, "{score: S, nms: N}");
  r.only_keys(thresholds, field + ".thresholds", {"score", "nms"});
  e.score_threshold = threshold(r, thresholds, "score", field + ".thresholds");
  e.nms_threshold = threshold(r, thresholds, "nms", field + ".thresholds");

  e.top_k = r.get<int>(node, "top_k", field, e.top_k);
  if (e.top_k < 1) r.fail(node["top_k"], field + ".top_k", "must be at least 1");

  // Class names: inline, or the labels file, which the model loader reads (it may not be installed yet
  // when the catalog is parsed, e.g. for `sightflow models`).
  if (r.present(node, "classes")) {
    const YAML::Node classes = node["classes"];
    if (!classes.IsSequence() || classes.size() == 0)
      r.fail(classes, field + ".classes", "expected a non-empty list of names");
    for (const auto& c : classes) {
      auto label = r.scalar<std::string>(c, field + ".classes");
      if (label.empty()) r.fail(c, field + ".classes", "a class name must not be empty");
      e.class_names.push_back(label);
    }
    if (e.file("labels"))
      r.fail(classes, field + ".classes", "give either classes or a labels file, not both");
  } else if (!e.file("labels")) {
    r.fail(node, field, "no class names: give classes: [...] or a file with role: labels");
  }
  return e;
}

}  // namespace

ResizeMode parse_resize_mode(const std::string& name) {
  if (name == "stretch") return ResizeMode::Stretch;
  if (name == "letterbox") return ResizeMode::Letterbox;
  if (name == "center-crop") return ResizeMode::CenterCrop;
  throw std::invalid_argument("unknown resize mode '" + name +
                              "' (expected stretch, letterbox or center-crop)");
}

std::string to_string(ResizeMode mode) {
  switch (mode) {
    case ResizeMode::Stretch:
      return "stretch";
    case ResizeMode::Letterbox:
      return "letterbox";
    case ResizeMode::CenterCrop:
      return "center-crop";
  }
  return "unknown";
}

const ModelFile* CatalogEntry::file(const std::string& role) const {
  for (const auto& f : files) {
    if (f.role == role) return &f;
  }
  return nullptr;
}

ModelCatalog ModelCatalog::parse(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw CatalogError(origin + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  Reader r(origin);
  r.check_document(root);
  if (!root.IsMap()) throw CatalogError(origin + ": expected a mapping with the key models");
  r.only_keys(root, "", {"models"});
  const YAML::Node models = root["models"];
  if (!models.IsDefined() || !models.IsMap() || models.size() == 0)
    r.fail(models.IsDefined() ? models : root, "models", "expected a non-empty mapping of name: entry");
  ModelCatalog catalog;
  std::set<std::string> names;
  for (const auto& kv : models) {
    auto name = r.scalar<std::string>(kv.first, "models");
    if (!is_model_name(name))
      r.fail(kv.first, "models." + name, "a model name uses only letters, digits, '-', '_' and '.'");
    // yaml-cpp keeps both copies of a repeated key; the second would be unreachable by name.
    if (!names.insert(name).second) r.fail(kv.first, "models." + name, "repeated model name");
    catalog.entries_.push_back(read_entry(r, name, kv.second, "models." + name));
  }
  return catalog;
}

ModelCatalog ModelCatalog::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw CatalogError("cannot read model catalog " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

const CatalogEntry* ModelCatalog::find(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> ModelCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

ModelLocations ModelLocations::from_environment() {
  // An empty variable counts as unset: an empty models folder would silently mean the working directory.
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  ModelLocations l;
  auto catalog = env("SIGHTFLOW_CATALOG");
  l.catalog = catalog.empty() ? SIGHTFLOW_DEFAULT_CATALOG : catalog;
  auto models = env("SIGHTFLOW_MODELS");
  l.models_dir = models.empty() ? SIGHTFLOW_DEFAULT_MODELS_DIR : models;
  return l;
}

namespace {
struct LocationsState {
  std::mutex mutex;
  std::optional<ModelLocations> locations;
};
LocationsState& locations_state() {
  static LocationsState state;
  return state;
}
}  // namespace

void set_model_locations(const ModelLocations& locations) {
  auto& state = locations_state();
  std::lock_guard lock(state.mutex);
  state.locations = locations;
}

ModelLocations model_locations() {
  auto& state = locations_state();
  std::lock_guard lock(state.mutex);
  if (!state.locations) state.locations = ModelLocations::from_environment();
  return *state.locations;
}

}  // namespace sf
