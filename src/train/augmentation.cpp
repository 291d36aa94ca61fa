#include "train/augmentation.hpp"

#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <cmath>

namespace sf::train {
namespace {

float uniform(std::mt19937_64& random, float low, float high) {
  return std::uniform_real_distribution<float>(low, high)(random);
}

// Zooms by `factor` about a random point: a smaller picture on grey, or a crop of a larger one. Returns the
// shift of the picture's left/top edge in network pixels (negative when cropped).
std::pair<int64_t, int64_t> zoom(torch::Tensor& image, float factor, std::mt19937_64& random) {
  const int64_t height = image.size(1), width = image.size(2);
  const int64_t scaled_h = std::max<int64_t>(1, std::lround(double(height) * factor)),
                scaled_w = std::max<int64_t>(1, std::lround(double(width) * factor));
  namespace F = torch::nn::functional;
  const torch::Tensor scaled =
      F::interpolate(image.unsqueeze(0), F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{scaled_h, scaled_w})
                                             .mode(torch::kBilinear)
                                             .align_corners(false))
          .squeeze(0);
  const auto offset = [&](int64_t room) {
    return room == 0 ? int64_t(0) : std::uniform_int_distribution<int64_t>(0, std::abs(room))(random);
  };
  const int64_t dx = offset(width - scaled_w), dy = offset(height - scaled_h);
  using torch::indexing::Slice;
  // Crop where the picture grew, pad with grey where it shrank.
  torch::Tensor canvas = torch::full_like(image, 0.5f);
  const int64_t src_x = scaled_w > width ? dx : 0, dst_x = scaled_w > width ? 0 : dx;
  const int64_t src_y = scaled_h > height ? dy : 0, dst_y = scaled_h > height ? 0 : dy;
  const int64_t w = std::min(width, scaled_w), h = std::min(height, scaled_h);
  canvas.index_put_({Slice(), Slice(dst_y, dst_y + h), Slice(dst_x, dst_x + w)},
                    scaled.index({Slice(), Slice(src_y, src_y + h), Slice(src_x, src_x + w)}));
  image = canvas;
  return {dst_x - src_x, dst_y - src_y};
}

// Brightness, contrast about the image's mean, saturation against its grey (RGB weights of BT.601).
void recolour(torch::Tensor& image, float amount, std::mt19937_64& random) {
  const float brightness = uniform(random, 1 - amount, 1 + amount),
              contrast = uniform(random, 1 - amount, 1 + amount),
              saturation = uniform(random, 1 - amount, 1 + amount);
  torch::Tensor x = image * brightness;
  const torch::Tensor mean = x.mean();
  x = (x - mean) * contrast + mean;
  const torch::Tensor grey = (x[0] * 0.299f + x[1] * 0.587f + x[2] * 0.114f).unsqueeze(0);
  image = (grey + (x - grey) * saturation).clamp(0, 1);
}

}  // namespace

void augment_batch(torch::Tensor& images, std::vector<YoloTarget>& targets, const AugmentOptions& options,
                   std::mt19937_64& random) {
  const float width = float(images.size(3)), height = float(images.size(2));
  std::vector<YoloTarget> kept;
  for (int64_t i = 0; i < images.size(0); ++i) {
    torch::Tensor image = images[i].clone();
    const bool flip = options.flip && uniform(random, 0, 1) < 0.5f;
    if (flip) image = image.flip({2});
    float factor = 1;
    std::pair<int64_t, int64_t> shift{0, 0};
    if (options.scale > 0) {
      factor = uniform(random, 1 - options.scale, 1 + options.scale);
      shift = zoom(image, factor, random);
    }
    if (options.colour > 0) recolour(image, options.colour, random);
    images[i].copy_(image);

    for (YoloTarget t : targets) {
      if (t.image != int(i)) continue;
      if (flip) t.cx = 1 - t.cx;
      // The box's edges in the new picture, normalised, then cut to the picture.
      const float x1 = ((t.cx - t.w / 2) * width * factor + float(shift.first)) / width,
                  x2 = ((t.cx + t.w / 2) * width * factor + float(shift.first)) / width,
                  y1 = ((t.cy - t.h / 2) * height * factor + float(shift.second)) / height,
                  y2 = ((t.cy + t.h / 2) * height * factor + float(shift.second)) / height;
      const float cx1 = std::clamp(x1, 0.f, 1.f), cx2 = std::clamp(x2, 0.f, 1.f),
                  cy1 = std::clamp(y1, 0.f, 1.f), cy2 = std::clamp(y2, 0.f, 1.f);
      const float visible = (cx2 - cx1) * (cy2 - cy1), whole = (x2 - x1) * (y2 - y1);
      // Less than a third left, or under two pixels a side: not a box to learn from.
      if (whole <= 0 || visible < whole / 3 || (cx2 - cx1) * width < 2 || (cy2 - cy1) * height < 2) continue;
      t.cx = (cx1 + cx2) / 2, t.cy = (cy1 + cy2) / 2, t.w = cx2 - cx1, t.h = cy2 - cy1;
      if (t.cx >= 1 || t.cy >= 1) continue;
      kept.push_back(t);
    }
  }
  targets = std::move(kept);
}

}  // namespace sf::train
