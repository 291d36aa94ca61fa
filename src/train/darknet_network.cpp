#include "train/darknet_network.hpp"

#include <torch/utils.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace sf::train {
namespace {

std::runtime_error layer_error(const DarknetSection& section, const std::string& problem) {
  return std::runtime_error(section.where() + ": " + problem);
}

// Keys that change what a layer computes and that this module does not implement: refusing them beats
// training a different network than the one OpenCV will run.
void reject_unsupported(const DarknetSection& section, std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (section.has(key)) throw layer_error(section, std::string(key) + " is not supported");
}

int absolute_index(const DarknetSection& section, int index, int reference) {
  const int target = reference < 0 ? index + reference : reference;
  if (target < 0 || target >= index)
    throw layer_error(section, "refers to layer " + std::to_string(target) +
                                   ", not an earlier layer (this is layer " + std::to_string(index) + ")");
  return target;
}

}  // namespace

DarknetNetworkImpl::DarknetNetworkImpl(const DarknetCfg& cfg) {
  width_ = cfg.net.require_int("width");
  height_ = cfg.net.require_int("height");
  channels_ = cfg.net.get_int("channels", 3);
  if (width_ <= 0 || height_ <= 0 || channels_ <= 0)
    throw layer_error(cfg.net, "width, height and channels must be positive");
  std::vector<int> channels;  // output channels per layer
  for (size_t i = 0; i < cfg.layers.size(); ++i)
    layers_.push_back(build_layer(cfg.layers[i], int(i), channels));
  if (yolo_.empty()) throw std::runtime_error(cfg.net.file + ": no [yolo] layer");
}

DarknetNetworkImpl::Layer DarknetNetworkImpl::build_layer(const DarknetSection& s, int index,
                                                          std::vector<int>& channels) {
  const int in = index == 0 ? channels_ : channels.back();
  Layer layer{};
  layer.where = s.where();
  int out = in;
  const auto activation = [&](const std::string& fallback) {
    const std::string name = s.get_string("activation", fallback);
    if (name == "linear") return Activation::Linear;
    if (name == "leaky") return Activation::Leaky;
    if (name == "relu") return Activation::Relu;
    if (name == "logistic") return Activation::Logistic;
    if (name == "mish") return Activation::Mish;
    if (name == "swish") return Activation::Swish;
    throw layer_error(
        s, "activation " + name + " is not supported (linear, leaky, relu, logistic, mish, swish)");
  };
  if (s.type == "convolutional") {
    reject_unsupported(s, {"stride_x", "stride_y", "binary", "xnor", "antialiasing", "share_index", "deform",
                           "assisted_excitation"});
    if (s.get_int("dilation", 1) != 1) throw layer_error(s, "dilation other than 1 is not supported");
    layer.kind = Kind::Convolutional;
    out = s.require_int("filters");
    const int size = s.get_int("size", 1), stride = s.get_int("stride", 1), groups = s.get_int("groups", 1);
    const int padding = s.get_int("pad", 0) != 0 ? size / 2 : s.get_int("padding", 0);
    if (out <= 0 || size <= 0 || stride <= 0 || groups <= 0 || padding < 0)
      throw layer_error(s, "filters, size, stride and groups must be positive");
    if (in % groups != 0 || out % groups != 0)
      throw layer_error(s, "groups=" + std::to_string(groups) + " divides neither the " + std::to_string(in) +
                               " input channels nor the " + std::to_string(out) + " filters");
    const bool batch_normalize = s.get_int("batch_normalize", 0) != 0;
    layer.conv = register_module("conv_" + std::to_string(index),
                                 torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, size)
                                                       .stride(stride)
                                                       .padding(padding)
                                                       .groups(groups)
                                                       .bias(!batch_normalize)));
    if (batch_normalize)
      // Darknet updates its rolling statistics by 1% a batch; OpenCV normalises with eps 1e-6.
      layer.batch_norm =
          register_module("bn_" + std::to_string(index),
                          torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(out).eps(1e-6).momentum(0.01)));
    layer.activation = activation("logistic");  // darknet's default for a convolution
  } else if (s.type == "shortcut") {
    if (s.get_string("weights_type", "none") != "none") throw layer_error(s, "weights_type is not supported");
    layer.kind = Kind::Shortcut;
    const auto from = s.get_ints("from");
    if (from.empty()) throw layer_error(s, "from is missing");
    for (int f : from) {
      layer.sources.push_back(absolute_index(s, index, f));
      if (channels[size_t(layer.sources.back())] != in)
        throw layer_error(s, "adds layer " + std::to_string(layer.sources.back()) + " of " +
                                 std::to_string(channels[size_t(layer.sources.back())]) + " channels to " +
                                 std::to_string(in) + " channels");
    }
    layer.activation = activation("linear");
  } else if (s.type == "route") {
    layer.kind = Kind::Route;
    const auto sources = s.get_ints("layers");
    if (sources.empty()) throw layer_error(s, "layers is missing");
    layer.groups = s.get_int("groups", 1);
    layer.group_id = s.get_int("group_id", 0);
    if (layer.groups <= 0 || layer.group_id < 0 || layer.group_id >= layer.groups)
      throw layer_error(s, "group_id must be in [0, groups)");
    out = 0;
    for (int source : sources) {
      layer.sources.push_back(absolute_index(s, index, source));
      const int c = channels[size_t(layer.sources.back())];
      if (c % layer.groups != 0)
        throw layer_error(s, "layer " + std::to_string(layer.sources.back()) + " has " + std::to_string(c) +
                                 " channels, not divisible into " + std::to_string(layer.groups) + " groups");
      out += c / layer.groups;
    }
  } else if (s.type == "upsample") {
    layer.kind = Kind::Upsample;
    layer.stride = s.get_int("stride", 2);
    if (layer.stride <= 0) throw layer_error(s, "stride must be positive (downsampling is not supported)");
    if (s.get_float("scale", 1.f) != 1.f) throw layer_error(s, "scale other than 1 is not supported");
  } else if (s.type == "maxpool") {
    reject_unsupported(s, {"stride_x", "stride_y", "maxpool_depth", "antialiasing"});
    layer.kind = Kind::Maxpool;
    layer.stride = s.get_int("stride", 1);
    layer.size = s.get_int("size", layer.stride);
    layer.padding = s.get_int("padding", layer.size - 1);  // darknet's default: the output keeps size/stride
    if (layer.stride <= 0 || layer.size <= 0 || layer.padding < 0)
      throw layer_error(s, "size and stride must be positive");
  } else if (s.type == "dropout") {
    layer.kind = Kind::Dropout;
    layer.probability = s.get_float("probability", 0.5f);
    if (!(layer.probability >= 0.f && layer.probability < 1.f))
      throw layer_error(s, "probability must be in [0, 1)");
  } else if (s.type == "yolo") {
    layer.kind = Kind::Yolo;
    if (s.get_int("new_coords", 0) != 0) throw layer_error(s, "new_coords is not supported");
    YoloLayerSpec spec;
    spec.layer = index;
    spec.classes = s.get_int("classes", 20);
    spec.scale_x_y = s.get_float("scale_x_y", 1.f);
    const auto anchors = s.get_floats("anchors");
    auto mask = s.get_ints("mask");
    if (anchors.empty() || anchors.size() % 2 != 0) throw layer_error(s, "anchors must be w,h pairs");
    if (mask.empty())
      for (int a = 0; a < int(anchors.size() / 2); ++a) mask.push_back(a);
    for (int m : mask) {
      if (m < 0 || size_t(m) >= anchors.size() / 2)
        throw layer_error(s, "mask " + std::to_string(m) + " is not an anchor index");
      spec.anchors.emplace_back(anchors[2 * size_t(m)], anchors[2 * size_t(m) + 1]);
    }
    const int expected = int(spec.anchors.size()) * (spec.classes + 5);
    if (spec.classes <= 0 || in != expected)
      throw layer_error(s, "reads " + std::to_string(in) + " channels; " +
                               std::to_string(spec.anchors.size()) + " anchors x (5 + " +
                               std::to_string(spec.classes) + " classes) need " + std::to_string(expected));
    yolo_.push_back(spec);
  } else {
    throw layer_error(s, "is not a layer");  // parse_darknet_cfg lets only known sections through
  }
  channels.push_back(out);
  return layer;
}

torch::Tensor DarknetNetworkImpl::activate(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::Linear:
      return x;
    case Activation::Leaky:
      return torch::leaky_relu(x, 0.1);
    case Activation::Relu:
      return torch::relu(x);
    case Activation::Logistic:
      return torch::sigmoid(x);
    case Activation::Mish:
      return torch::mish(x);
    case Activation::Swish:
      return torch::silu(x);
  }
  return x;
}

std::vector<torch::Tensor> DarknetNetworkImpl::forward(const torch::Tensor& input) {
  std::vector<torch::Tensor> outputs(layers_.size());
  std::vector<torch::Tensor> heads;
  torch::Tensor x = input;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = layers_[i];
    switch (layer.kind) {
      case Kind::Convolutional:
        x = layer.conv->forward(x);
        if (layer.batch_norm) x = layer.batch_norm->forward(x);
        x = activate(x, layer.activation);
        break;
      case Kind::Shortcut:
        for (int source : layer.sources) x = x + outputs[size_t(source)];
        x = activate(x, layer.activation);
        break;
      case Kind::Route: {
        std::vector<torch::Tensor> parts;
        for (int source : layer.sources) {
          const torch::Tensor& t = outputs[size_t(source)];
          parts.push_back(layer.groups == 1 ? t : t.chunk(layer.groups, 1)[size_t(layer.group_id)]);
        }
        x = parts.size() == 1 ? parts.front() : torch::cat(parts, 1);
        break;
      }
      case Kind::Upsample:
        x = torch::upsample_nearest2d(x, {x.size(2) * layer.stride, x.size(3) * layer.stride});
        break;
      case Kind::Maxpool: {
        // Darknet pads padding/2 before and the rest after, with values that never win the max.
        const auto pads = [&](int64_t extent) {
          const int64_t out = (extent + layer.padding - layer.size) / layer.stride + 1;
          const int64_t before = layer.padding / 2;
          return std::pair{before, (out - 1) * layer.stride + layer.size - extent - before};
        };
        const auto [left, right] = pads(x.size(3));
        const auto [top, bottom] = pads(x.size(2));
        x = torch::constant_pad_nd(x, {left, right, top, bottom}, -std::numeric_limits<float>::infinity());
        x = torch::max_pool2d(x, {layer.size, layer.size}, {layer.stride, layer.stride});
        break;
      }
      case Kind::Dropout:
        x = torch::dropout(x, layer.probability, is_training());
        break;
      case Kind::Yolo:
        heads.push_back(x);
        break;
    }
    outputs[i] = x;
  }
  return heads;
}

void DarknetNetworkImpl::load_weights(const std::filesystem::path& path) {
  DarknetWeightsReader reader(path);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    if (layer.kind != Kind::Convolutional) continue;
    const auto fill = [&](const torch::Tensor& tensor, const char* part) {
      auto values = reader.take(size_t(tensor.numel()),
                                "layer " + std::to_string(i) + " (" + layer.where + ") " + part);
      tensor.copy_(torch::from_blob(const_cast<float*>(values.data()), tensor.sizes(), torch::kFloat));
    };
    if (layer.batch_norm) {
      fill(layer.batch_norm->bias, "batch-norm biases");
      fill(layer.batch_norm->weight, "batch-norm scales");
      fill(layer.batch_norm->running_mean, "batch-norm means");
      fill(layer.batch_norm->running_var, "batch-norm variances");
    } else {
      fill(layer.conv->bias, "biases");
    }
    fill(layer.conv->weight, "weights");
  }
  reader.expect_end();
  header_ = reader.header();
}

void DarknetNetworkImpl::save_weights(const std::filesystem::path& path) const {
  std::vector<float> values;
  const auto append = [&](const torch::Tensor& tensor) {
    const torch::Tensor t = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
    values.insert(values.end(), t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  };
  for (const Layer& layer : layers_) {
    if (layer.kind != Kind::Convolutional) continue;
    if (layer.batch_norm) {
      append(layer.batch_norm->bias);
      append(layer.batch_norm->weight);
      append(layer.batch_norm->running_mean);
      append(layer.batch_norm->running_var);
    } else {
      append(layer.conv->bias);
    }
    append(layer.conv->weight);
  }
  write_darknet_weights(path, header_, values);
}

void DarknetNetworkImpl::freeze_layers(int count) {
  for (size_t i = 0; i < layers_.size() && i < size_t(std::max(count, 0)); ++i) {
    if (layers_[i].conv)
      for (auto& parameter : layers_[i].conv->parameters()) parameter.set_requires_grad(false);
    if (layers_[i].batch_norm)
      for (auto& parameter : layers_[i].batch_norm->parameters()) parameter.set_requires_grad(false);
  }
}

DarknetNetwork load_darknet_network(const std::filesystem::path& cfg, const std::filesystem::path& weights) {
  DarknetNetwork network(read_darknet_cfg(cfg));
  network->load_weights(weights);
  network->eval();
  return network;
}

}  // namespace sf::train
