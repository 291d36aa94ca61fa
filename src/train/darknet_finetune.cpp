#include "train/darknet_finetune.hpp"

#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <algorithm>
#include <numeric>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <stdexcept>

namespace sf::train {
namespace {

FinetuneStep to_step(const YoloLossParts& parts, int iteration) {
  return {iteration, parts.box.item<float>(), parts.objectness.item<float>(), parts.classes.item<float>()};
}

std::vector<YoloTarget> batch_targets(const TrainingSet& set, const std::vector<int64_t>& indexes) {
  std::vector<YoloTarget> targets;
  for (size_t j = 0; j < indexes.size(); ++j)
    for (YoloTarget t : set.boxes[size_t(indexes[j])]) {
      t.image = int(j);
      targets.push_back(t);
    }
  return targets;
}

YoloLossParts batch_loss(DarknetNetwork& network, const TrainingSet& set,
                         const std::vector<int64_t>& indexes) {
  const torch::Tensor images = set.images.index_select(0, torch::tensor(indexes, torch::kLong));
  return yolo_loss(network->forward(images), network->yolo_layers(), batch_targets(set, indexes),
                   network->input_width(), network->input_height());
}

}  // namespace

TrainingSet make_training_set(const std::vector<DatasetImage>& images, const DarknetNetwork& network,
                              const std::map<std::string, int>& classes) {
  if (images.empty()) throw std::invalid_argument("fine-tuning needs at least one image");
  const int classes_out = network->yolo_layers().front().classes;
  for (const auto& [label, id] : classes)
    if (id < 0 || id >= classes_out)
      throw std::invalid_argument("class " + label + " -> " + std::to_string(id) + ": the network has " +
                                  std::to_string(classes_out) + " classes");
  TrainingSet set;
  std::vector<torch::Tensor> tensors;
  const cv::Size input(network->input_width(), network->input_height());
  for (const DatasetImage& image : images) {
    const cv::Mat bgr = cv::imread(image.path.string(), cv::IMREAD_COLOR);
    if (bgr.empty()) throw std::runtime_error("cannot read image " + image.path.string());
    const cv::Mat blob = cv::dnn::blobFromImage(bgr, 1 / 255.0, input, cv::Scalar(), true, false);
    tensors.push_back(
        torch::from_blob(const_cast<float*>(blob.ptr<float>()), {3, input.height, input.width}, torch::kFloat)
            .clone());
    std::vector<YoloTarget> targets;
    for (const Detection& d : image.boxes) {
      auto it = classes.find(d.label);
      if (it == classes.end() || d.box.width <= 0 || d.box.height <= 0) continue;
      // A plain stretch: normalised to the image is normalised to the network input.
      const float cx = (d.box.x + d.box.width / 2) / float(bgr.cols),
                  cy = (d.box.y + d.box.height / 2) / float(bgr.rows);
      if (cx < 0 || cx >= 1 || cy < 0 || cy >= 1) continue;
      targets.push_back({0, it->second, cx, cy, std::min(d.box.width / float(bgr.cols), 1.f),
                         std::min(d.box.height / float(bgr.rows), 1.f)});
    }
    set.boxes.push_back(std::move(targets));
  }
  set.images = torch::stack(tensors);
  return set;
}

FinetuneStep evaluate_loss(DarknetNetwork& network, const TrainingSet& set) {
  torch::NoGradGuard no_grad;
  network->eval();
  FinetuneStep sum;
  const int64_t n = set.images.size(0);
  for (int64_t first = 0; first < n; first += 8) {
    std::vector<int64_t> indexes(size_t(std::min<int64_t>(8, n - first)));
    std::iota(indexes.begin(), indexes.end(), first);
    const FinetuneStep step = to_step(batch_loss(network, set, indexes), 0);
    const float share = float(indexes.size()) / float(n);  // losses are means over their batch
    sum.box += step.box * share, sum.objectness += step.objectness * share,
        sum.classes += step.classes * share;
  }
  return sum;
}

std::vector<FinetuneStep> finetune(DarknetNetwork& network, const TrainingSet& set,
                                   const FinetuneOptions& options,
                                   const std::function<void(const FinetuneStep&)>& progress) {
  if (options.iterations < 1 || options.batch_size < 1)
    throw std::invalid_argument("fine-tuning needs iterations and batch_size of at least 1");
  torch::manual_seed(options.seed);
  std::mt19937_64 random(options.seed);
  const auto n = size_t(set.images.size(0));
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  size_t next = n;  // shuffle before the first batch
  torch::optim::Adam optimizer(network->parameters(), torch::optim::AdamOptions(options.learning_rate));
  network->train();
  for (const auto& module : network->modules(false))
    if (auto batch_norm = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(module)) batch_norm->eval();

  std::vector<FinetuneStep> steps;
  const size_t batch = std::min(size_t(options.batch_size), n);
  for (int iteration = 1; iteration <= options.iterations; ++iteration) {
    if (next + batch > n) {
      std::shuffle(order.begin(), order.end(), random);
      next = 0;
    }
    const std::vector<int64_t> indexes(order.begin() + long(next), order.begin() + long(next + batch));
    next += batch;
    const YoloLossParts parts = batch_loss(network, set, indexes);
    optimizer.zero_grad();
    parts.total().backward();
    optimizer.step();
    steps.push_back(to_step(parts, iteration));
    if (progress) progress(steps.back());
  }
  network->eval();
  return steps;
}

}  // namespace sf::train
