#pragma once
// A darknet .cfg as a libtorch module, so that a catalog model (yolo-fastest and its kind) can be trained
// here and written back as .weights that OpenCV DNN runs unchanged. forward() returns, per [yolo] layer,
// the raw tensor that layer reads (N x anchors*(5+classes) x H x W): the loss and yolo_output.hpp start
// from it. Layers: convolutional (groups, batch_normalize, leaky/linear/relu/logistic/mish/swish),
// shortcut, route (layers, groups, group_id), upsample, maxpool, dropout, yolo.
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <filesystem>
#include <string>
#include <vector>

#include "train/darknet_cfg.hpp"
#include "train/darknet_weights_file.hpp"

namespace sf::train {

struct YoloLayerSpec {
  int layer = 0;                                 // darknet layer index of the [yolo] section
  std::vector<std::pair<float, float>> anchors;  // the masked anchors, network input pixels (w, h)
  int classes = 0;
  float scale_x_y = 1.f;
};

class DarknetNetworkImpl : public torch::nn::Module {
 public:
  // Throws std::runtime_error naming FILE:LINE [section] for anything it cannot build (a key out of range,
  // an unsupported activation, a route to a later layer, a [yolo] whose input has the wrong channels).
  explicit DarknetNetworkImpl(const DarknetCfg& cfg);

  // input: N x channels x H x W, H and W multiples of the network's total stride.
  std::vector<torch::Tensor> forward(const torch::Tensor& input);

  // Darknet's weight order: per [convolutional], either batch-norm bias, scale, mean, variance, or the
  // convolution's bias; then its weights. Throws naming the file, the offset and the layer when the file is
  // shorter or longer than the cfg needs.
  void load_weights(const std::filesystem::path& path);
  void save_weights(const std::filesystem::path& path) const;

  // Stops the first `count` layers from learning (their convolution and batch-norm parameters): the early
  // layers see edges and textures that any camera shares, and a few frames would only pull them off.
  void freeze_layers(int count);

  const std::vector<YoloLayerSpec>& yolo_layers() const { return yolo_; }
  int input_width() const { return width_; }
  int input_height() const { return height_; }
  int input_channels() const { return channels_; }
  size_t layer_count() const { return layers_.size(); }

 private:
  enum class Kind { Convolutional, Shortcut, Route, Upsample, Maxpool, Dropout, Yolo };
  enum class Activation { Linear, Leaky, Relu, Logistic, Mish, Swish };
  struct Layer {
    Kind kind;
    std::string where;  // FILE:LINE [type]
    Activation activation = Activation::Linear;
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d batch_norm{nullptr};
    std::vector<int> sources;               // route / shortcut: absolute layer indexes
    int groups = 1, group_id = 0;           // route: the channel slice taken of each source
    int size = 1, stride = 1, padding = 0;  // maxpool (darknet's total padding), upsample (stride)
    float probability = 0.f;                // dropout
  };

  Layer build_layer(const DarknetSection& section, int index, std::vector<int>& channels);
  static torch::Tensor activate(const torch::Tensor& x, Activation activation);

  std::vector<Layer> layers_;
  std::vector<YoloLayerSpec> yolo_;
  DarknetWeightsHeader header_;
  int width_ = 0, height_ = 0, channels_ = 3;
};
TORCH_MODULE(DarknetNetwork);

// Reads the cfg and its weights: the catalog model as a trainable network, in eval mode.
DarknetNetwork load_darknet_network(const std::filesystem::path& cfg, const std::filesystem::path& weights);

}  // namespace sf::train
