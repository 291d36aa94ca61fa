#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "dataset/dataset.hpp"
#include "sightflow/frame.hpp"
#include "sightflow/result.hpp"

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
    std::vector<uchar> jpeg;
    if (!cv::imencode(".jpg", r.image, jpeg))
      throw std::runtime_error("cannot encode " + image_path(r.frame));
    write_file_atomically(info_.dir / image_path(r.frame),
                          std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
    Pending image{r.frame, r.pts, r.image.cols, r.image.rows, r.detections, 0, is_carried(r)};
    const int64_t index = next_index_++;
    if (info_.fill_gaps > 0) fill_gaps_before(index, image);
    pending_.push_back(std::move(image));
    // An image older than any gap a later sighting may fill is final.
    while (pending_.size() > size_t(info_.fill_gaps)) write_labels(pop_front());
  }

  void close() override {
    while (!pending_.empty()) write_labels(pop_front());
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
    manifest["filled_count"] = filled_;
    manifest["counts"] = counts_;
    manifest["images"] = images_;
    write_text(info_.dir / "manifest.json", manifest.dump(2) + "\n");
  }

 private:
  // One captured image whose labels may still gain filled boxes.
  struct Pending {
    int64_t frame;
    double pts;
    int width, height;
    std::vector<Detection> boxes;
    int filled;    // boxes added between two sightings of their track (the last ones)
    bool carried;  // motion skip repeated the previous inference's boxes
  };

  struct Sighting {
    int64_t index;  // of the image, in capture order
    Detection box;
  };

  static std::string stem(int64_t frame) {
    char text[32];
    std::snprintf(text, sizeof text, "%06lld", static_cast<long long>(frame));
    return text;
  }
  static std::string image_path(int64_t frame) { return "images/" + stem(frame) + ".jpg"; }

  Pending pop_front() {
    Pending front = std::move(pending_.front());
    pending_.pop_front();
    ++first_pending_;
    return front;
  }

  // For each track sighted on `image` (number `index`) that was last sighted at most fill_gaps images
  // before: a box on each image between, interpolated linearly (those images are still pending).
  void fill_gaps_before(int64_t index, const Pending& image) {
    for (const auto& d : image.boxes) {
      if (!d.track_id || d.score <= 0) continue;  // score 0: a tracker's held prediction, not a sighting
      auto [it, first] = last_seen_.try_emplace(*d.track_id, Sighting{index, d});
      if (first) continue;
      const Detection& a = it->second.box;
      const int64_t gap = index - it->second.index - 1;
      for (int64_t j = 1; gap <= info_.fill_gaps && j <= gap; ++j) {
        const float t = float(j) / float(gap + 1);
        Detection filled = d;
        filled.score = 0;
        filled.box = {a.box.x + t * (d.box.x - a.box.x), a.box.y + t * (d.box.y - a.box.y),
                      a.box.width + t * (d.box.width - a.box.width),
                      a.box.height + t * (d.box.height - a.box.height)};
        auto& between = pending_[size_t(it->second.index + j - first_pending_)];
        between.boxes.push_back(std::move(filled));
        ++between.filled;
      }
      it->second = {index, d};
    }
    // A track unseen for longer than a fillable gap can no longer be filled.
    std::erase_if(last_seen_, [&](const auto& e) { return index - e.second.index > info_.fill_gaps; });
  }

  void write_labels(const Pending& image) {
    const double w = image.width, h = image.height;
    std::string labels;
    for (const auto& d : image.boxes) {
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
                                     {"image_id", image.frame},
                                     {"category_id", id},
                                     {"bbox", {d.box.x, d.box.y, d.box.width, d.box.height}},
                                     {"area", d.box.area()},
                                     {"score", d.score},  // 0: filled in (or a tracker's held box)
                                     {"iscrowd", 0}});
      }
    }
    if (info_.format == DatasetFormat::Yolo)
      write_text(info_.dir / "labels" / (stem(image.frame) + ".txt"), labels);
    filled_ += image.filled;
    // Why each image has its boxes: the reference saw them, the tracker held a lost track's predicted box
    // (score 0, --track-param hold), or they were filled in between two sightings of their track (the
    // last `filled` ones); "carried": motion skip repeated the last inference.
    const auto own = image.boxes.begin() + ptrdiff_t(image.boxes.size() - size_t(image.filled));
    const auto held =
        std::count_if(image.boxes.begin(), own, [](const Detection& d) { return d.score <= 0; });
    nlohmann::json sources{{"reference", (own - image.boxes.begin()) - held}};
    if (held) sources["held"] = held;
    if (image.filled) sources["filled"] = image.filled;
    nlohmann::json entry{{"id", image.frame},    {"file_name", image_path(image.frame)},
                         {"frame", image.frame}, {"pts", image.pts},
                         {"width", image.width}, {"height", image.height},
                         {"boxes", sources}};
    if (image.carried) entry["carried"] = true;
    images_.push_back(std::move(entry));
  }

  // Labels outside the reference model's list (none expected) get new ids after it.
  int class_id(const Detection& d) {
    auto [it, added] = class_ids_.try_emplace(d.label, int(info_.class_names.size()));
    if (added) info_.class_names.push_back(d.label);
    return it->second;
  }

  DatasetInfo info_;
  std::deque<Pending> pending_;  // the last fill_gaps images, oldest first
  int64_t next_index_ = 0, first_pending_ = 0;
  std::map<int64_t, Sighting> last_seen_;  // by track id
  std::map<std::string, int> class_ids_;
  std::map<std::string, int64_t> counts_;
  int64_t annotations_ = 0, filled_ = 0;
  nlohmann::json images_ = nlohmann::json::array();
  nlohmann::json coco_annotations_ = nlohmann::json::array();
};

}  // namespace

std::shared_ptr<Sink> make_dataset_sink(const DatasetInfo& info) {
  return std::make_shared<DatasetSink>(info);
}

}  // namespace sf
