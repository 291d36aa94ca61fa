#include "infer/dnn/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace sf {
namespace {

std::string describe(const cv::Mat& m) {
  if (m.empty()) return "an empty image";
  return "a " + std::to_string(m.cols) + "x" + std::to_string(m.rows) + " image of type " +
         cv::typeToString(m.type());
}

int rounded(double v) { return int(std::lround(v)); }

}  // namespace

cv::Point2f InputTransform::to_source(cv::Point2f p) const {
  return {(p.x - offset_x) / scale_x, (p.y - offset_y) / scale_y};
}

cv::Rect2f InputTransform::to_source(const cv::Rect2f& box, cv::Size source) const {
  cv::Point2f tl = to_source(box.tl()), br = to_source(box.br());
  const float w = float(source.width), h = float(source.height);
  float x1 = std::clamp(tl.x, 0.f, w), y1 = std::clamp(tl.y, 0.f, h);
  float x2 = std::clamp(br.x, 0.f, w), y2 = std::clamp(br.y, 0.f, h);
  return {x1, y1, std::max(0.f, x2 - x1), std::max(0.f, y2 - y1)};
}

cv::Mat prepare_image(const cv::Mat& bgr, const PreprocessSpec& spec, InputTransform* transform) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    throw std::invalid_argument("prepare_image expects a non-empty 8-bit 3-channel BGR image, got " +
                                describe(bgr));
  }
  const cv::Size in = spec.input;
  if (in.width <= 0 || in.height <= 0) {
    throw std::invalid_argument("prepare_image: the input size must be positive, got " +
                                std::to_string(in.width) + "x" + std::to_string(in.height));
  }
  const int w = bgr.cols, h = bgr.rows;
  InputTransform t;
  cv::Mat out;
  switch (spec.resize) {
    case ResizeMode::Stretch: {
      cv::resize(bgr, out, in, 0, 0, cv::INTER_LINEAR);
      t.scale_x = float(in.width) / float(w);
      t.scale_y = float(in.height) / float(h);
      break;
    }
    case ResizeMode::Letterbox: {
      const double r = std::min(double(in.width) / w, double(in.height) / h);
      const int rw = std::clamp(rounded(w * r), 1, in.width), rh = std::clamp(rounded(h * r), 1, in.height);
      const int ox = spec.letterbox_center ? (in.width - rw) / 2 : 0;
      const int oy = spec.letterbox_center ? (in.height - rh) / 2 : 0;
      out = cv::Mat(in, CV_8UC3, cv::Scalar::all(spec.pad_value));
      cv::Mat roi = out(cv::Rect(ox, oy, rw, rh));
      cv::resize(bgr, roi, roi.size(), 0, 0, cv::INTER_LINEAR);
      t.scale_x = float(rw) / float(w);
      t.scale_y = float(rh) / float(h);
      t.offset_x = float(ox);
      t.offset_y = float(oy);
      break;
    }
    case ResizeMode::CenterCrop: {
      const int target = spec.crop_from > 0 ? spec.crop_from : std::min(in.width, in.height);
      // The resized image must cover the crop window; with a crop_from smaller than the input (or a
      // non-square input) the scale is raised until it does, rather than cropping outside the image.
      const double r =
          std::max({double(target) / std::min(w, h), double(in.width) / w, double(in.height) / h});
      const int rw = std::max(rounded(w * r), in.width), rh = std::max(rounded(h * r), in.height);
      cv::Mat resized;
      cv::resize(bgr, resized, cv::Size(rw, rh), 0, 0, cv::INTER_LINEAR);
      const int ox = (rw - in.width) / 2, oy = (rh - in.height) / 2;
      out = resized(cv::Rect(ox, oy, in.width, in.height)).clone();  // continuous for the blob
      t.scale_x = float(rw) / float(w);
      t.scale_y = float(rh) / float(h);
      t.offset_x = -float(ox);
      t.offset_y = -float(oy);
      break;
    }
  }
  if (transform) *transform = t;
  return out;
}

cv::Mat make_blob(std::span<const cv::Mat> prepared, const PreprocessSpec& spec) {
  if (prepared.empty()) throw std::invalid_argument("make_blob: no images");
  for (const cv::Mat& m : prepared) {
    if (m.type() != CV_8UC3 || m.size() != spec.input) {
      throw std::invalid_argument("make_blob expects prepared " + std::to_string(spec.input.width) + "x" +
                                  std::to_string(spec.input.height) + " 8-bit BGR images, got " +
                                  describe(m));
    }
  }
  for (int c = 0; c < 3; ++c) {
    if (spec.std[c] == 0)
      throw std::invalid_argument("make_blob: std of channel " + std::to_string(c) + " is 0");
  }
  // Split each image's 8-bit channels, then write each plane into the blob converted in one pass:
  // (pixel * scale - mean) / std = pixel * (scale / std) - mean / std. About ten times faster than
  // cv::dnn::blobFromImages (which converts the whole image to float first), and this runs once per frame.
  const int n = int(prepared.size());
  int sizes[] = {n, 3, spec.input.height, spec.input.width};
  cv::Mat blob(4, sizes, CV_32F);
  cv::Mat channels[3];
  for (int i = 0; i < n; ++i) {
    cv::split(prepared[i], channels);
    for (int c = 0; c < 3; ++c) {
      const cv::Mat& source = channels[spec.rgb ? 2 - c : c];    // frames are BGR
      cv::Mat plane(spec.input, CV_32F, blob.ptr<float>(i, c));  // a view into the blob
      source.convertTo(plane, CV_32F, spec.scale / spec.std[c], -spec.mean[c] / spec.std[c]);
    }
  }
  return blob;
}

}  // namespace sf
