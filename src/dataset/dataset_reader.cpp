#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "dataset/dataset.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
}

std::string class_name(const std::vector<std::string>& names, int id, const std::string& where) {
  if (id < 0 || size_t(id) >= names.size())
    throw std::runtime_error(where + ": class id " + std::to_string(id) + " is not in the class list");
  return names[size_t(id)];
}

void read_yolo_labels(DatasetImage& image, const fs::path& path, const std::vector<std::string>& names) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    int id;
    float cx, cy, w, h;
    std::string where = path.string() + ":" + std::to_string(line_no);
    if (!(fields >> id >> cx >> cy >> w >> h))
      throw std::runtime_error(where + ": expected 'class cx cy w h'");
    float W = float(image.size.width), H = float(image.size.height);
    image.boxes.push_back(
        {class_name(names, id, where), id, 1.f, {(cx - w / 2) * W, (cy - h / 2) * H, w * W, h * H}, {}, {}});
  }
}

}  // namespace

Dataset load_dataset(const fs::path& dir) {
  Dataset d;
  d.manifest = read_json(dir / "manifest.json");
  const std::string where = (dir / "manifest.json").string();
  try {
    d.info.dir = dir;
    d.info.format = parse_dataset_format(d.manifest.at("format").get<std::string>());
    d.info.class_names = d.manifest.at("classes").get<std::vector<std::string>>();
    for (const auto& i : d.manifest.at("images")) {
      DatasetImage image;
      image.path = dir / i.at("file_name").get<std::string>();
      image.frame = i.at("frame").get<int64_t>();
      image.size = {i.at("width").get<int>(), i.at("height").get<int>()};
      d.images.push_back(std::move(image));
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
  if (d.info.format == DatasetFormat::Yolo) {
    for (auto& image : d.images)
      read_yolo_labels(image, dir / "labels" / image.path.filename().replace_extension(".txt"),
                       d.info.class_names);
  } else {
    auto coco = read_json(dir / "annotations.json");
    std::map<int64_t, DatasetImage*> by_id;
    for (auto& image : d.images) by_id[image.frame] = &image;
    try {
      for (const auto& a : coco.at("annotations")) {
        auto it = by_id.find(a.at("image_id").get<int64_t>());
        if (it == by_id.end())
          throw std::runtime_error("annotation " + a.at("id").dump() + " names an unknown image");
        int id = a.at("category_id").get<int>();
        auto b = a.at("bbox").get<std::vector<float>>();
        if (b.size() != 4)
          throw std::runtime_error("annotation " + a.at("id").dump() + ": bbox needs 4 numbers");
        it->second->boxes.push_back({class_name(d.info.class_names, id, "annotations.json"),
                                     id,
                                     a.value("score", 1.f),
                                     {b[0], b[1], b[2], b[3]},
                                     {},
                                     {}});
      }
    } catch (const std::exception& e) {
      throw std::runtime_error((dir / "annotations.json").string() + ": " + e.what());
    }
  }
  std::sort(d.images.begin(), d.images.end(), [](const auto& a, const auto& b) { return a.frame < b.frame; });
  return d;
}

}  // namespace sf
