#include "infer/dnn/dnn_model.hpp"

#include <cstring>
#include <fstream>
#include <stdexcept>

#include "infer/decoders/decoders.hpp"

namespace sf {
namespace {

std::string path_of(const std::map<std::string, std::filesystem::path>& files, const std::string& role) {
  auto it = files.find(role);
  return it == files.end() ? std::string() : it->second.string();
}

// Item `index` of a batched output: [N, R, C] -> [R, C]; 2-D outputs belong to a batch of one.
cv::Mat batch_item(const cv::Mat& out, int index, int batch) {
  if (out.dims == 3)
    return cv::Mat(out.size[1], out.size[2], CV_32F, const_cast<float*>(out.ptr<float>(index)));
  if (out.dims == 2 && batch > 1 && out.rows == batch) return out.row(index);
  if (batch != 1)
    throw std::runtime_error("model output of unexpected shape for a batch of " + std::to_string(batch));
  return out;
}

std::vector<int> parse_ints(const std::string& text, const std::string& what) {
  std::vector<int> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      values.push_back(std::stoi(item));
    } catch (const std::exception&) {
      throw std::invalid_argument(what + ": expected comma-separated integers, got '" + text + "'");
    }
  }
  return values;
}

std::string option(const CatalogEntry& e, const std::string& key, const std::string& fallback) {
  auto it = e.decoder_options.find(key);
  return it == e.decoder_options.end() ? fallback : it->second;
}

bool truthy(const std::string& text) { return text == "true" || text == "1" || text == "yes"; }

}  // namespace

std::vector<std::string> read_class_names(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read class list " + path.string());
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  while (!names.empty() && names.back().empty()) names.pop_back();
  return names;
}

cv::dnn::Net load_net(const CatalogEntry& e, const std::map<std::string, std::filesystem::path>& files) {
  std::string model = path_of(files, "model"), config = path_of(files, "config");
  try {
    cv::dnn::Net net;
    if (e.format == "onnx")
      net = cv::dnn::readNetFromONNX(model);
    else if (e.format == "darknet")
      net = cv::dnn::readNetFromDarknet(config, model);
    else if (e.format == "tensorflow")
      net = cv::dnn::readNetFromTensorflow(model, config);
    else if (e.format == "caffe")
      net = cv::dnn::readNetFromCaffe(config, model);
    else
      throw std::invalid_argument("unsupported format '" + e.format + "'");
    if (net.empty()) throw std::runtime_error("OpenCV returned an empty network");
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return net;
  } catch (const cv::Exception& ex) {
    throw std::runtime_error("model '" + e.name + "': OpenCV cannot load " + model +
                             (config.empty() ? "" : " with " + config) + " as " + e.format + ": " + ex.err);
  }
}

DnnModel::DnnModel(DnnModelSpec spec) : spec_(std::move(spec)) {
  const auto& e = spec_.entry;
  info_.name = e.name;
  info_.task = e.task == "classification" ? ModelTask::Classification : ModelTask::Detection;
  info_.max_batch = std::max(1, e.max_batch);
  info_.class_names = e.class_names;
  net_ = load_net(e, spec_.files);
  output_names_ = net_.getUnconnectedOutLayersNames();
  decode_ = make_decoder();
}

DnnModel::Decode DnnModel::make_decoder() const {
  const CatalogEntry& e = spec_.entry;
  cv::Size input = e.preprocess.input;
  float score = e.score_threshold;
  if (e.decoder == "yolox") {
    auto strides = parse_ints(option(e, "strides", "8,16,32"), "model '" + e.name + "' strides");
    return [=](const std::vector<cv::Mat>& outs, int i, int n) {
      return ModelOutput{decode_yolox(batch_item(outs.at(0), i, n), input, strides, score), {}};
    };
  }
  if (e.decoder == "darknet-yolo") {
    bool multiplied = truthy(option(e, "scores_include_objectness", "true"));
    return [=](const std::vector<cv::Mat>& outs, int i, int n) {
      std::vector<cv::Mat> items;
      for (const auto& o : outs) items.push_back(batch_item(o, i, n));
      return ModelOutput{decode_darknet_yolo(items, input, score, multiplied), {}};
    };
  }
  if (e.decoder == "ssd") {
    int offset = parse_ints(option(e, "class_offset", "1"), "model '" + e.name + "' class_offset").at(0);
    return [=](const std::vector<cv::Mat>& outs, int i, int) {
      return ModelOutput{decode_ssd(outs.at(0), i, input, score, offset), {}};
    };
  }
  if (e.decoder == "classification") {
    bool softmax = truthy(option(e, "softmax", "true"));
    int top_k = e.top_k;
    return [=](const std::vector<cv::Mat>& outs, int i, int n) {
      cv::Mat scores = outs.at(0).reshape(1, n).row(i);
      return ModelOutput{{}, decode_classification(scores, top_k, softmax)};
    };
  }
  throw std::invalid_argument("model '" + e.name + "': decoder '" + e.decoder +
                              "' does not run on cv::dnn::Net");
}

std::string DnnModel::label_of(int class_id) const {
  const auto& names = info_.class_names;
  return class_id >= 0 && class_id < int(names.size()) ? names[class_id] : std::to_string(class_id);
}

namespace {

struct DnnPrepared : PreparedInput {
  cv::Mat blob;  // [1, 3, H, W]
  InputTransform transform;
};

}  // namespace

Prepared DnnModel::prepare(const cv::Mat& image, StageTimes* times) const {
  Stopwatch watch;
  auto p = std::make_shared<DnnPrepared>();
  cv::Mat canvas = prepare_image(image, spec_.entry.preprocess, &p->transform);
  p->blob = make_blob(std::span<const cv::Mat>(&canvas, 1), spec_.entry.preprocess);
  if (times) times->resize += watch.seconds();
  return p;
}

std::vector<ModelOutput> DnnModel::infer(std::span<const cv::Mat> images, StageTimes* times) {
  return infer_prepared(images, {}, times);
}

std::vector<ModelOutput> DnnModel::infer_prepared(std::span<const cv::Mat> images,
                                                  std::span<const Prepared> prepared, StageTimes* times) {
  if (!prepared.empty() && prepared.size() != images.size())
    throw std::invalid_argument("model '" + info_.name + "': one prepared input per image expected");
  std::vector<ModelOutput> outputs;
  outputs.reserve(images.size());
  for (size_t first = 0; first < images.size(); first += info_.max_batch) {
    size_t n = std::min<size_t>(info_.max_batch, images.size() - first);
    auto part = infer_batch(images.subspan(first, n),
                            prepared.empty() ? prepared : prepared.subspan(first, n), times);
    for (auto& o : part) outputs.push_back(std::move(o));
  }
  return outputs;
}

std::vector<ModelOutput> DnnModel::infer_batch(std::span<const cv::Mat> images,
                                               std::span<const Prepared> prepared, StageTimes* times) {
  const CatalogEntry& e = spec_.entry;
  const int n = int(images.size());
  // Pre-process what was not prepared ahead, then stack the per-image tensors into one blob.
  std::vector<std::shared_ptr<const DnnPrepared>> inputs(n);
  for (int i = 0; i < n; ++i) {
    if (!prepared.empty() && prepared[i]) {
      inputs[i] = std::dynamic_pointer_cast<const DnnPrepared>(prepared[i]);
      if (!inputs[i])
        throw std::invalid_argument("model '" + info_.name + "': input prepared by another model");
    } else {
      inputs[i] = std::static_pointer_cast<const DnnPrepared>(prepare(images[i], times));
    }
  }
  Stopwatch watch;
  cv::Mat blob;
  if (n == 1) {
    blob = inputs[0]->blob;
  } else {
    int sizes[] = {n, 3, e.preprocess.input.height, e.preprocess.input.width};
    blob.create(4, sizes, CV_32F);
    const size_t per_image = inputs[0]->blob.total() * sizeof(float);
    for (int i = 0; i < n; ++i) std::memcpy(blob.ptr<float>(i), inputs[i]->blob.ptr<float>(), per_image);
  }
  if (times) times->resize += watch.lap();

  std::vector<cv::Mat> outs;
  try {
    net_.setInput(blob);
    net_.forward(outs, output_names_);
  } catch (const cv::Exception& ex) {
    throw std::runtime_error("model '" + e.name + "': forward pass failed: " + ex.err);
  }
  if (times) times->model += watch.lap();

  std::vector<ModelOutput> results(images.size());
  for (int i = 0; i < n; ++i) {
    ModelOutput out = decode_(outs, i, n);
    if (!out.detections.empty()) {
      out.detections = non_max_suppression(std::move(out.detections), e.nms_threshold);
      std::vector<Detection> kept;
      for (auto& d : out.detections) {
        d.box = inputs[i]->transform.to_source(d.box, images[i].size());
        if (d.box.width <= 0 || d.box.height <= 0) continue;
        for (auto& p : d.landmarks) p = inputs[i]->transform.to_source(p);
        d.label = label_of(d.class_id);
        kept.push_back(std::move(d));
      }
      out.detections = std::move(kept);
    }
    for (auto& c : out.labels) c.label = label_of(c.class_id);
    results[i] = std::move(out);
  }
  if (times) times->post += watch.lap();
  return results;
}

}  // namespace sf
