#include "infer/dnn/catalog_model_factory.hpp"

#include <algorithm>
#include <sstream>

#include "infer/dnn/augmented_model.hpp"
#include "infer/dnn/dnn_model.hpp"
#include "infer/dnn/yunet_model.hpp"
#include "infer/model_params.hpp"

namespace sf {
namespace {

// Network input sides: past 2048 a single blob and its activations take gigabytes (input=100000 asked
// OpenCV for 30 GB), under 16 no catalog network has a feature map left.
constexpr int kMinInputSide = 16, kMaxInputSide = 2048;

// "416" (square) or "416x320" (width x height), each side within the bounds above.
cv::Size parse_input(const std::string& model, const std::string& text) {
  const std::string usage =
      "model '" + model + "': parameter 'input' must be SIZE or WIDTHxHEIGHT with sides in [" +
      std::to_string(kMinInputSide) + ", " + std::to_string(kMaxInputSide) + "], got '" + text + "'";
  try {
    auto x = text.find('x');
    size_t used_w = 0, used_h = 0;
    const std::string w_text = text.substr(0, x),
                      h_text = x == std::string::npos ? w_text : text.substr(x + 1);
    int w = std::stoi(w_text, &used_w), h = std::stoi(h_text, &used_h);
    if (used_w != w_text.size() || used_h != h_text.size()) throw std::invalid_argument(text);
    if (std::min(w, h) < kMinInputSide || std::max(w, h) > kMaxInputSide) throw std::invalid_argument(text);
    return {w, h};
  } catch (const std::exception&) {
    throw std::invalid_argument(usage);
  }
}

// What the input sides must be a multiple of: YOLO heads join feature maps of every stride, so any other
// size fails every forward pass ("Inconsistent shape for ConcatLayer"). 1 for the other families.
int input_multiple(const CatalogEntry& e) {
  if (e.decoder == "darknet-yolo") return 32;
  if (e.decoder != "yolox") return 1;
  int largest = 1;
  auto it = e.decoder_options.find("strides");
  std::istringstream list(it == e.decoder_options.end() ? "8,16,32" : it->second);
  for (std::string item; std::getline(list, item, ',');) {
    try {
      largest = std::max(largest, std::stoi(item));
    } catch (const std::exception&) {
    }  // the decoder reports a bad list
  }
  return largest;
}

// Passes' own score floor: a box one pass scores low can still be confirmed by the others in the fusion.
constexpr float kAugmentedPassFloor = 0.05f;
constexpr size_t kMaxAugmentedSizes = 4;

// `tta=SIZE,...[,mirror]`: the network again at each SIZE (as `input`), and every size also on the
// mirrored image when `mirror` is listed; the boxes are fused (infer/dnn/augmented_model.hpp).
std::unique_ptr<Model> create_augmented_model(const CatalogEntry& entry, ModelParams params,
                                              const std::string& tta, float fuse_iou, float score_threshold,
                                              const std::filesystem::path& models_dir) {
  const std::string usage =
      "model '" + entry.name +
      "': parameter 'tta' must list input sizes and/or 'mirror' (e.g. 960,mirror), got '" + tta + "'";
  std::vector<std::string> sizes{params.count("input") ? params.at("input") : ""};  // "": the catalog's
  bool mirror = false;
  std::istringstream list(tta);
  for (std::string item; std::getline(list, item, ',');) {
    if (item == "mirror") {
      mirror = true;
      continue;
    }
    if (item.empty() || sizes.size() > kMaxAugmentedSizes) throw std::invalid_argument(usage);
    sizes.push_back(item);  // checked as `input` when its pass is made
  }
  if (sizes.size() == 1 && !mirror) throw std::invalid_argument(usage);
  params.erase("tta");
  params.erase("tta_iou");
  params["score_threshold"] = std::to_string(std::min(score_threshold, kAugmentedPassFloor));
  std::vector<AugmentedPass> passes;
  for (const auto& size : sizes) {
    ModelParams pass = params;
    if (!size.empty()) pass["input"] = size;
    for (bool mirrored : {false, true}) {
      if (mirrored && !mirror) continue;
      passes.push_back({create_catalog_model(entry, pass, models_dir), mirrored});
    }
  }
  return std::make_unique<AugmentedModel>(std::move(passes), fuse_iou, score_threshold);
}

}  // namespace

std::unique_ptr<Model> create_catalog_model(const CatalogEntry& entry, const ModelParams& params,
                                            const std::filesystem::path& models_dir) {
  DnnModelSpec spec{entry, {}};
  CatalogEntry& e = spec.entry;
  ParamReader p(e.name, params);
  std::string input = p.text("input", "");
  if (!input.empty()) {
    e.preprocess.input = parse_input(e.name, input);
    const int multiple = input_multiple(e);
    if (e.preprocess.input.width % multiple != 0 || e.preprocess.input.height % multiple != 0)
      p.fail("input",
             "must be a multiple of " + std::to_string(multiple) + " for this network, got '" + input + "'");
  }
  e.score_threshold = float(p.number("score_threshold", e.score_threshold, 0, 1));
  e.nms_threshold = float(p.number("nms_threshold", e.nms_threshold, 0, 1));
  if (e.nms_threshold <= 0) p.fail("nms_threshold", "must be in (0, 1], got 0");
  e.top_k = p.integer("top_k", e.top_k, 1, 1000);
  const std::string tta = p.text("tta", "");
  const float tta_iou = float(p.number("tta_iou", 0.55, 0.05, 0.95));
  p.reject_unknown();
  if (tta.empty() && params.count("tta_iou")) p.fail("tta_iou", "has no meaning without 'tta'");
  if (!tta.empty()) return create_augmented_model(entry, params, tta, tta_iou, e.score_threshold, models_dir);

  spec.files = require_files(models_dir, e);
  if (e.class_names.empty() && spec.files.count("labels"))
    e.class_names = read_class_names(spec.files.at("labels"));
  if (e.decoder == "yunet") return std::make_unique<YunetModel>(std::move(spec));
  return std::make_unique<DnnModel>(std::move(spec));
}

}  // namespace sf
