#include "infer/dnn/catalog_model_factory.hpp"

#include "infer/dnn/dnn_model.hpp"
#include "infer/dnn/yunet_model.hpp"
#include "infer/model_params.hpp"

namespace sf {
namespace {

// "416" (square) or "416x320" (width x height).
cv::Size parse_input(const std::string& model, const std::string& text) {
  try {
    auto x = text.find('x');
    size_t used = 0;
    int w = std::stoi(text.substr(0, x), &used);
    int h = x == std::string::npos ? w : std::stoi(text.substr(x + 1));
    if (w <= 0 || h <= 0 || (x == std::string::npos && used != text.size()))
      throw std::invalid_argument(text);
    return {w, h};
  } catch (const std::exception&) {
    throw std::invalid_argument("model '" + model +
                                "': parameter 'input' must be SIZE or WIDTHxHEIGHT, got '" + text + "'");
  }
}

}  // namespace

std::unique_ptr<Model> create_catalog_model(const CatalogEntry& entry, const ModelParams& params,
                                            const std::filesystem::path& models_dir) {
  DnnModelSpec spec{entry, {}};
  CatalogEntry& e = spec.entry;
  ParamReader p(e.name, params);
  std::string input = p.text("input", "");
  if (!input.empty()) e.preprocess.input = parse_input(e.name, input);
  e.score_threshold = float(p.number("score_threshold", e.score_threshold));
  e.nms_threshold = float(p.number("nms_threshold", e.nms_threshold));
  e.top_k = int(p.number("top_k", e.top_k));
  p.reject_unknown();
  if (e.score_threshold < 0 || e.score_threshold > 1 || e.nms_threshold <= 0 || e.nms_threshold > 1)
    throw std::invalid_argument("model '" + e.name +
                                "': score_threshold must be in [0, 1], nms_threshold in (0, 1]");
  if (e.top_k < 1) throw std::invalid_argument("model '" + e.name + "': top_k must be at least 1");

  spec.files = require_files(models_dir, e);
  if (e.class_names.empty() && spec.files.count("labels"))
    e.class_names = read_class_names(spec.files.at("labels"));
  if (e.decoder == "yunet") return std::make_unique<YunetModel>(std::move(spec));
  return std::make_unique<DnnModel>(std::move(spec));
}

}  // namespace sf
