#include <cstdio>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "dataset/dataset.hpp"
#include "sightflow/frame.hpp"

namespace sf {
namespace fs = std::filesystem;

DatasetFormat parse_dataset_format(const std::string& name) {
  if (name == "yolo") return DatasetFormat::Yolo;
  if (name == "coco") return DatasetFormat::Coco;
  throw std::invalid_argument("unknown dataset format '" + name + "' (expected yolo or coco)");
}

std::string to_string(DatasetFormat format) { return format == DatasetFormat::Coco ? "coco" : "yolo"; }

namespace {

// Every file of a dataset is whole, or absent, even when the capture is killed: a torn label file or
// JPEG would train a model on garbage.
void write_text(const fs::path& path, const std::string& text) { write_file_atomically(path, text); }

class DatasetSink : public Sink {
 public:
  explicit DatasetSink(DatasetInfo info) : info_(std::move(info)) {
    std::error_code ec;
    fs::create_directories(info_.dir / "images", ec);
    if (!ec && info_.format == DatasetFormat::Yolo) fs::create_directories(info_.dir / "labels", ec);
    if (ec)
      throw std::runtime_error("cannot create dataset folder " + info_.dir.string() + ": " + ec.message());
    for (size_t i = 0; i < info_.class_names.size(); ++i) class_ids_[info_.class_names[i]] = int(i);
  }

  void write(const Result& r) override {
    if (r.image.empty()) return;
    char stem[32];
    std::snprintf(stem, sizeof stem, "%06lld", static_cast<long long>(r.frame));
    fs::path image_path = info_.dir / "images" / (std::string(stem) + ".jpg");
    std::vector<uchar> jpeg;
    if (!cv::imencode(".jpg", r.image, jpeg))
      throw std::runtime_error("cannot encode " + image_path.string());
    write_file_atomically(image_path,
                          std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
    const double w = r.image.cols, h = r.image.rows;
    std::string labels;
    for (const auto& d : r.detections) {
      int id = class_id(d);
      ++counts_[d.label];
      ++annotations_;
      if (info_.format == DatasetFormat::Yolo) {
        char line[128];
        std::snprintf(line, sizeof line, "%d %.6f %.6f %.6f %.6f\n", id, (d.box.x + d.box.width / 2) / w,
                      (d.box.y + d.box.height / 2) / h, d.box.width / w, d.box.height / h);
        labels += line;
      } else {
        coco_annotations_.push_back({{"id", annotations_},
                                     {"image_id", r.frame},
                                     {"category_id", id},
                                     {"bbox", {d.box.x, d.box.y, d.box.width, d.box.height}},
                                     {"area", d.box.area()},
                                     {"score", d.score},
                                     {"iscrowd", 0}});
      }
    }
    if (info_.format == DatasetFormat::Yolo)
      write_text(info_.dir / "labels" / (std::string(stem) + ".txt"), labels);
    images_.push_back({{"id", r.frame},
                       {"file_name", "images/" + std::string(stem) + ".jpg"},
                       {"frame", r.frame},
                       {"pts", r.pts},
                       {"width", r.image.cols},
                       {"height", r.image.rows}});
  }

  void close() override {
    if (info_.format == DatasetFormat::Yolo) {
      std::string names;
      for (const auto& n : info_.class_names) names += n + "\n";
      write_text(info_.dir / "classes.txt", names);
    } else {
      nlohmann::json categories = nlohmann::json::array();
      for (size_t i = 0; i < info_.class_names.size(); ++i)
        categories.push_back({{"id", i}, {"name", info_.class_names[i]}});
      nlohmann::json coco{{"info",
                           {{"description", "sightflow dataset capture"},
                            {"date_created", format_utc(unix_now(), "%Y-%m-%dT%H:%M:%SZ")}}},
                          {"images", images_},
                          {"annotations", coco_annotations_},
                          {"categories", categories}};
      write_text(info_.dir / "annotations.json", coco.dump() + "\n");
    }
    nlohmann::json manifest = info_.manifest_fields;
    manifest["format"] = to_string(info_.format);
    manifest["created"] = format_utc(unix_now(), "%Y-%m-%dT%H:%M:%SZ");
    manifest["classes"] = info_.class_names;
    manifest["image_count"] = images_.size();
    manifest["annotation_count"] = annotations_;
    manifest["counts"] = counts_;
    manifest["images"] = images_;
    write_text(info_.dir / "manifest.json", manifest.dump(2) + "\n");
  }

 private:
  // Labels outside the reference model's list (none expected) get new ids after it.
  int class_id(const Detection& d) {
    auto [it, added] = class_ids_.try_emplace(d.label, int(info_.class_names.size()));
    if (added) info_.class_names.push_back(d.label);
    return it->second;
  }

  DatasetInfo info_;
  std::map<std::string, int> class_ids_;
  std::map<std::string, int64_t> counts_;
  int64_t annotations_ = 0;
  nlohmann::json images_ = nlohmann::json::array();
  nlohmann::json coco_annotations_ = nlohmann::json::array();
};

}  // namespace

std::shared_ptr<Sink> make_dataset_sink(const DatasetInfo& info) {
  return std::make_shared<DatasetSink>(info);
}

}  // namespace sf
