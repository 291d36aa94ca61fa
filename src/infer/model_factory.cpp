// The built-in model names and how their parameters are read; other names are looked up in the catalog.
#include <stdexcept>

#include "infer/cascade_detector.hpp"
#include "infer/dnn/catalog_model_factory.hpp"
#include "infer/hog_people_detector.hpp"
#include "infer/model_params.hpp"
#include "sightflow/model_entry_file.hpp"
#include "sightflow/source.hpp"

namespace sf {
namespace {

std::unique_ptr<Model> make_hog(const ModelParams& params) {
  ParamReader p("hog", params);
  HogParams h;
  h.upscale = p.number("upscale", h.upscale);
  h.hit_threshold = p.number("hit_threshold", h.hit_threshold);
  h.win_stride = p.integer("win_stride", h.win_stride, 8, 512);
  h.padding = p.integer("padding", h.padding, 0, 512);
  h.scale = p.number("scale", h.scale);
  h.group_threshold = p.number("group_threshold", h.group_threshold, 0, 1000);
  h.shrink_x = p.number("shrink_x", h.shrink_x);
  h.shrink_y = p.number("shrink_y", h.shrink_y);
  h.min_score = p.number("min_score", h.min_score);
  p.reject_unknown();
  if (h.upscale <= 0 || h.upscale > 8) throw std::invalid_argument("model 'hog': upscale must be in (0, 8]");
  if (h.scale <= 1.0) throw std::invalid_argument("model 'hog': scale must be greater than 1");
  if (h.win_stride < 1 || h.win_stride % 8 != 0)
    throw std::invalid_argument("model 'hog': win_stride must be a positive multiple of 8 (the HOG cell)");
  if (h.shrink_x < 0 || h.shrink_x >= 0.5 || h.shrink_y < 0 || h.shrink_y >= 0.5)
    throw std::invalid_argument("model 'hog': shrink_x and shrink_y must be in [0, 0.5)");
  return std::make_unique<HogPeopleDetector>(h);
}

std::unique_ptr<Model> make_cascade(const std::string& name, const ModelParams& params,
                                    const std::string& file, const std::string& label, int min_neighbors) {
  ParamReader p(name, params);
  CascadeParams c;
  c.file = p.text("file", std::string(SIGHTFLOW_OPENCV_DATA_DIR) + "/haarcascades/" + file);
  c.label = p.text("label", label);
  c.upscale = p.number("upscale", c.upscale);
  c.scale_factor = p.number("scale_factor", c.scale_factor);
  c.min_neighbors = p.integer("min_neighbors", min_neighbors, 0, 1000);
  c.min_size = p.integer("min_size", c.min_size, 0, SourceOptions::kMaxSide);
  c.max_size = p.integer("max_size", c.max_size, 0, SourceOptions::kMaxSide);
  p.reject_unknown();
  if (c.scale_factor <= 1.0)
    throw std::invalid_argument("model '" + name + "': scale_factor must be greater than 1");
  if (c.upscale <= 0 || c.upscale > 8)
    throw std::invalid_argument("model '" + name + "': upscale must be in (0, 8]");
  return std::make_unique<CascadeDetector>(c);
}

}  // namespace

std::vector<std::string> builtin_model_names() {
  return {"hog", "haar-face", "haar-fullbody", "lbp-face", "cascade"};
}

std::unique_ptr<Model> create_model(const std::string& name, const ModelParams& params) {
  if (name == "hog") return make_hog(params);
  if (name == "haar-face")
    return make_cascade(name, params, "haarcascade_frontalface_default.xml", "face", 5);
  if (name == "haar-fullbody") return make_cascade(name, params, "haarcascade_fullbody.xml", "person", 3);
  if (name == "lbp-face") {
    ModelParams p = params;
    if (!p.count("file"))
      p["file"] = std::string(SIGHTFLOW_OPENCV_DATA_DIR) + "/lbpcascades/lbpcascade_frontalface_improved.xml";
    return make_cascade(name, p, "", "face", 3);
  }
  if (name == "cascade") {
    if (!params.count("file"))
      throw std::invalid_argument("model 'cascade' needs params file=PATH to a cascade XML");
    return make_cascade(name, params, "", "object", 3);
  }
  // Not built in: a DNN model from a model entry file or the catalog.
  auto where = model_locations();
  if (is_model_entry_file(name))
    return create_catalog_model(load_model_entry_file(name), params, where.models_dir);
  auto catalog = ModelCatalog::load(where.catalog);
  if (const CatalogEntry* entry = catalog.find(name))
    return create_catalog_model(*entry, params, where.models_dir);
  std::string known;
  for (const auto& n : builtin_model_names()) known += (known.empty() ? "" : ", ") + n;
  for (const auto& n : catalog.names()) known += ", " + n;
  throw std::invalid_argument("unknown detector '" + name + "' (known: " + known + "; catalog " +
                              where.catalog.string() + ")");
}

}  // namespace sf
