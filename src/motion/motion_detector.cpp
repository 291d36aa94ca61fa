#include <cmath>
#include <numeric>
#include <stdexcept>

#include "motion/background_model.hpp"
#include "motion/motion_mask.hpp"
#include "motion/region_proposals.hpp"
#include "sightflow/motion.hpp"
#include "sightflow/source.hpp"

namespace sf {

MotionMode parse_motion_mode(const std::string& name) {
  if (name == "off") return MotionMode::Off;
  if (name == "skip") return MotionMode::Skip;
  if (name == "roi") return MotionMode::Roi;
  throw std::invalid_argument("unknown motion mode '" + name + "' (expected off, skip or roi)");
}

std::string to_string(MotionMode mode) {
  switch (mode) {
    case MotionMode::Skip:
      return "skip";
    case MotionMode::Roi:
      return "roi";
    case MotionMode::Off:
      break;
  }
  return "off";
}

void set_motion_option(MotionOptions& o, const std::string& name, const std::string& value) {
  auto number = [&] {
    try {
      size_t used = 0;
      double v = std::stod(value, &used);
      if (used == value.size() && std::isfinite(v)) return v;
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("motion option " + name + ": expected a number, got '" + value + "'");
  };
  // Whole numbers size kernels, crops and loops: bounded here, before a cast could overflow.
  auto integer = [&](int min, int max) {
    const double v = number();
    if (!(v >= min && v <= max) || v != std::floor(v))
      throw std::invalid_argument("motion option " + name + ": expected a whole number in [" +
                                  std::to_string(min) + ", " + std::to_string(max) + "], got '" + value +
                                  "'");
    return int(v);
  };
  if (name == "mode")
    o.mode = parse_motion_mode(value);
  else if (name == "warmup_frames")
    o.warmup_frames = integer(1, 100000);
  else if (name == "learning_rate")
    o.learning_rate = number();
  else if (name == "blur")
    o.blur = integer(0, 255);
  else if (name == "threshold")
    o.threshold = integer(0, 255);
  else if (name == "dilate")
    o.dilate = integer(0, 255);
  else if (name == "global_change")
    o.global_change = number();
  else if (name == "min_area")
    o.min_area = number();
  else if (name == "margin")
    o.margin = number();
  else if (name == "min_crop")
    o.min_crop = integer(0, SourceOptions::kMaxSide);
  else if (name == "max_crop")
    o.max_crop = integer(0, SourceOptions::kMaxSide);
  else if (name == "aspect")
    o.aspect = number();
  else if (name == "max_crops")
    o.max_crops = integer(1, 256);
  else if (name == "max_crop_fraction")
    o.max_crop_fraction = number();
  else if (name == "full_frame_every")
    o.full_frame_every = number();
  else if (name == "keep_static") {
    if (value != "true" && value != "false" && value != "1" && value != "0")
      throw std::invalid_argument("motion option keep_static: expected true or false, got '" + value + "'");
    o.keep_static = value == "true" || value == "1";
  } else
    throw std::invalid_argument("unknown motion option '" + name + "' (see docs/MOTION.md)");
}

const std::vector<std::string>& motion_option_names() {
  static const std::vector<std::string> names = {
      "mode",          "warmup_frames",     "learning_rate",    "blur",       "threshold", "dilate",
      "global_change", "min_area",          "margin",           "min_crop",   "max_crop",  "aspect",
      "max_crops",     "max_crop_fraction", "full_frame_every", "keep_static"};
  return names;
}

void validate(const MotionOptions& o) {
  auto fail = [](const std::string& name, const std::string& rule) {
    throw std::invalid_argument("motion option " + name + " " + rule);
  };
  if (o.learning_rate <= 0 || o.learning_rate > 1) fail("learning_rate", "must be in (0, 1]");
  if (o.global_change <= 0 || o.global_change > 1) fail("global_change", "must be in (0, 1]");
  if (o.aspect <= 0) fail("aspect", "must be positive");
  if (o.max_crops < 1) fail("max_crops", "must be at least 1");
  if (o.warmup_frames < 1) fail("warmup_frames", "must be at least 1");
  if (o.threshold < 0 || o.threshold > 255) fail("threshold", "must be 0..255");
  if (o.min_area < 0) fail("min_area", "must not be negative");
  if (o.full_frame_every < 0) fail("full_frame_every", "must not be negative");
  if (o.margin < 0) fail("margin", "must not be negative");
  if (o.min_crop < 0 || o.max_crop < 0) fail("min_crop and max_crop", "must not be negative");
  if (o.max_crop_fraction <= 0) fail("max_crop_fraction", "must be positive");
  if (o.blur < 0 || o.dilate < 0) fail("blur and dilate", "must not be negative");
}

MotionDetector::MotionDetector(const MotionOptions& options)
    : options_(options),
      background_(std::make_unique<BackgroundModel>(options.warmup_frames, options.learning_rate)) {}

MotionDetector::~MotionDetector() = default;

MotionObservation MotionDetector::observe(const cv::Mat& bgr) {
  MotionObservation o;
  cv::Mat grey = motion_grey(bgr, options_.blur);
  if (background_->empty() || background_->size() != grey.size()) {
    background_->reset(grey);
    mask_ = cv::Mat::zeros(grey.size(), CV_8U);
    o.warming_up = !background_->warmed_up();
    return o;
  }
  cv::Mat background = background_->image();
  cv::Mat changed = motion_mask(grey, background, options_.threshold, 0);
  o.changed_fraction = changed_fraction(changed);
  if (o.changed_fraction > options_.global_change) {
    // Light switched or the camera moved: what is different now is the scene, not something in it.
    background_->restart_from(grey);
    mask_ = cv::Mat::zeros(grey.size(), CV_8U);
    o.global_change = true;
    o.warming_up = !background_->warmed_up();
    return o;
  }
  background_->learn(grey);
  o.warming_up = !background_->warmed_up();
  mask_ = motion_mask(grey, background, options_.threshold, options_.dilate);
  o.blobs = motion_blobs(mask_, options_.min_area);
  o.moving_area = std::accumulate(o.blobs.begin(), o.blobs.end(), 0.0,
                                  [](double sum, const cv::Rect& b) { return sum + double(b.area()); });
  o.crops = region_proposals(o.blobs, grey.size(),
                             {options_.margin, options_.min_crop, options_.aspect, options_.max_crop});
  return o;
}

}  // namespace sf
