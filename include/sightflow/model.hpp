#pragma once
// The model seam: a batch of images in, one typed output per image out.
// Built-in detectors (HOG, cascades) and the OpenCV DNN backends implement it.
#include <map>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <span>
#include <string>
#include <vector>

#include "sightflow/detection.hpp"
#include "sightflow/stage_times.hpp"

namespace sf {

enum class ModelTask { Detection, Classification };

struct ModelInfo {
  std::string name;
  ModelTask task = ModelTask::Detection;
  int max_batch = 1;  // largest batch one infer() call runs as a single forward pass
  std::vector<std::string> class_names;
};

// A model's pre-processed input for one image (resized, normalised tensor and how to map boxes back),
// made ahead of the forward pass on another thread. Opaque outside the model that made it.
struct PreparedInput {
  virtual ~PreparedInput() = default;
};
using Prepared = std::shared_ptr<const PreparedInput>;

// A place in a shared model's queue (Model::reserve), given back when destroyed unless infer() used it.
struct Reservation {
  virtual ~Reservation() = default;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;
  // Real time: blocks while the model is busy with other callers' passes and returns once this caller's
  // next infer() would start within about one pass, so the caller can pick its newest frame then rather
  // than wait in the queue with an older one. Callers are served in the order they asked. Hold the result
  // until that infer(). Models without a shared queue return nullptr at once.
  virtual std::unique_ptr<Reservation> reserve() { return nullptr; }
  // Optional: pre-processes one image ahead of infer_prepared() so that the work overlaps the previous
  // forward pass (the pipeline calls it on the decode thread). Must be safe to call from any thread while
  // infer() runs. Models without a separate pre-processing step return nullptr.
  virtual Prepared prepare(const cv::Mat& /*image*/, StageTimes* /*times*/ = nullptr) const {
    return nullptr;
  }
  // infer() with inputs from prepare(), one per image (null entries are pre-processed here).
  virtual std::vector<ModelOutput> infer_prepared(std::span<const cv::Mat> images,
                                                  std::span<const Prepared> prepared,
                                                  StageTimes* times = nullptr) {
    (void)prepared;
    return infer(images, times);
  }
  // One output per input image, in the same order; boxes in the input image's pixels.
  // `times` (optional) accumulates resize/model/post seconds for the whole batch.
  // Implementations must be safe to call from one thread at a time; the pipeline never shares an
  // instance between threads without a lock.
  virtual std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times = nullptr) = 0;
};

// Free-form parameters from the CLI or a config file (numbers and strings as text).
using ModelParams = std::map<std::string, std::string>;

// Creates a model by name ("hog", "haar-face", "haar-fullbody", ...). Throws std::invalid_argument
// listing the known names when `name` is unknown, or naming the bad parameter.
std::unique_ptr<Model> create_model(const std::string& name, const ModelParams& params = {});
std::vector<std::string> builtin_model_names();

}  // namespace sf
