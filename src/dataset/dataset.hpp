#pragma once
// A camera's own frames annotated by a reference model (`sightflow dataset capture`), in YOLO or COCO
// layout, and read back (`sightflow tune`, tests).
//
//   DIR/images/<frame>.jpg      every captured frame, annotated or not (negatives matter for tuning)
//   DIR/labels/<frame>.txt      yolo: one "class cx cy w h" line per box, normalised to the image
//   DIR/classes.txt             yolo: class names, one a line, line number = class id
//   DIR/annotations.json        coco: images, annotations (bbox x, y, w, h in pixels, score), categories
//   DIR/manifest.json           source, reference model and parameters, format, time, counts per class,
//                               and per image where its boxes came from (the reference, or filled in)
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sightflow/detection.hpp"
#include "sightflow/sink.hpp"

namespace sf {

enum class DatasetFormat { Yolo, Coco };
DatasetFormat parse_dataset_format(const std::string& name);  // "yolo" | "coco"; else invalid_argument
std::string to_string(DatasetFormat format);

struct DatasetInfo {
  std::filesystem::path dir;
  DatasetFormat format = DatasetFormat::Yolo;
  std::vector<std::string> class_names;  // the reference model's; class ids index this list
  nlohmann::json manifest_fields = nlohmann::json::object();  // source, reference_model, params, every...
  // Tracked references (boxes with a track_id): a track missed on up to this many images between two
  // sightings gets boxes there, interpolated between the two (0: off). Labels are then written this many
  // images late, once no later sighting can change them.
  int fill_gaps = 0;
};

// A sink that writes each result's frame and detections into the dataset (filling tracks' gaps as
// `fill_gaps` says); close() writes the COCO file and the manifest. Called from the pipeline's single sink
// thread (not thread-safe otherwise). Throws naming the folder when it cannot be created or written.
std::shared_ptr<Sink> make_dataset_sink(const DatasetInfo& info);

struct DatasetImage {
  std::filesystem::path path;
  int64_t frame = 0;  // the frame's sequence number in the source
  cv::Size size;
  std::vector<Detection> boxes;  // the reference annotations, image pixels (COCO keeps scores; YOLO: 1)
};

struct Dataset {
  DatasetInfo info;
  nlohmann::json manifest;
  std::vector<DatasetImage> images;  // in frame order
};

// Reads a folder written by the dataset sink (either format, as its manifest says). Throws
// std::runtime_error naming the file and line of anything malformed.
Dataset load_dataset(const std::filesystem::path& dir);

}  // namespace sf
