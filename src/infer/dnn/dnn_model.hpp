#pragma once
// A catalog model run through cv::dnn::Net: pre-process (PreprocessSpec), one forward pass per batch of
// up to max_batch images, decode (decoders.hpp), per-class NMS, map boxes back to source pixels.
#include <functional>
#include <opencv2/dnn.hpp>

#include "infer/dnn/preprocess.hpp"
#include "sightflow/model.hpp"
#include "sightflow/model_catalog.hpp"

namespace sf {

// The settings a DnnModel runs with: the catalog entry with any per-run overrides already applied.
struct DnnModelSpec {
  CatalogEntry entry;
  std::map<std::string, std::filesystem::path> files;  // role -> absolute path, checked
};

class DnnModel : public Model {
 public:
  explicit DnnModel(DnnModelSpec spec);
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times) override;
  // The resized, normalised tensor of one image and its InputTransform (thread-safe: reads the spec only).
  Prepared prepare(const cv::Mat& image, StageTimes* times) const override;
  std::vector<ModelOutput> infer_prepared(std::span<const cv::Mat> images, std::span<const Prepared> prepared,
                                          StageTimes* times) override;

 private:
  // Decodes image `index` of the batch from the raw outputs into network-input coordinates.
  using Decode = std::function<ModelOutput(const std::vector<cv::Mat>& outputs, int index, int batch)>;
  Decode make_decoder() const;
  std::string label_of(int class_id) const;  // the class name, or the id as text past the list's end
  std::vector<ModelOutput> infer_batch(std::span<const cv::Mat> images, std::span<const Prepared> prepared,
                                       StageTimes* times);

  DnnModelSpec spec_;
  ModelInfo info_;
  cv::dnn::Net net_;
  std::vector<std::string> output_names_;
  Decode decode_;
};

// Loads a cv::dnn::Net for the entry's format, turning OpenCV's exceptions into a message that names the
// model and its files.
cv::dnn::Net load_net(const CatalogEntry& entry, const std::map<std::string, std::filesystem::path>& files);

// Reads a class list: one name per line, index = class id (blank trailing lines ignored).
std::vector<std::string> read_class_names(const std::filesystem::path& path);

}  // namespace sf
