#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "infer/decoders/decoders.hpp"
#include "motion/motion_mask.hpp"
#include "sightflow/motion.hpp"

namespace sf {
namespace {

// Detections from different crops of one frame that overlap this much are one object.
constexpr float kCrossCropIou = 0.5f;
// A carried detection's patch may differ this much (mean grey level) from when it was found and still
// show the same still object; a person who walked off leaves a patch that differs far more.
constexpr double kStillPatchDifference = 12.0;

bool touches_inner_edge(const cv::Rect2f& box, const cv::Rect& crop, cv::Size frame) {
  constexpr float slack = 2.f;
  return (crop.x > 0 && box.x <= float(crop.x) + slack) || (crop.y > 0 && box.y <= float(crop.y) + slack) ||
         (crop.br().x < frame.width && box.br().x >= float(crop.br().x) - slack) ||
         (crop.br().y < frame.height && box.br().y >= float(crop.br().y) - slack);
}

bool inside_any(const cv::Point2f& p, const std::vector<cv::Rect>& crops) {
  return std::any_of(crops.begin(), crops.end(), [&](const cv::Rect& c) {
    return p.x >= float(c.x) && p.y >= float(c.y) && p.x < float(c.br().x) && p.y < float(c.br().y);
  });
}

double patch_difference(const cv::Mat& then, const cv::Mat& now, const cv::Rect2f& box) {
  cv::Rect r = cv::Rect(box) & cv::Rect(0, 0, now.cols, now.rows);
  if (r.area() == 0 || then.size() != now.size()) return 1e9;
  cv::Mat diff;
  cv::absdiff(then(r), now(r), diff);
  return cv::mean(diff)[0];
}

}  // namespace

MotionAlgorithm::MotionAlgorithm(std::shared_ptr<Model> model, MotionOptions options,
                                 std::set<std::string> classes, float min_score)
    : model_(std::move(model)),
      options_(options),
      classes_(std::move(classes)),
      min_score_(min_score),
      motion_(options) {}

std::vector<Detection> MotionAlgorithm::keep_wanted(std::vector<Detection> detections) const {
  std::erase_if(detections, [&](const Detection& d) {
    return d.score < min_score_ || (!classes_.empty() && !classes_.count(d.label));
  });
  return detections;
}

std::vector<Detection> MotionAlgorithm::infer_full(const cv::Mat& image, const Prepared& prepared,
                                                   StageTimes& times) {
  auto outputs = model_->infer_prepared(std::span<const cv::Mat>(&image, 1),
                                        std::span<const Prepared>(&prepared, 1), &times);
  return keep_wanted(std::move(outputs.at(0).detections));
}

std::vector<Detection> MotionAlgorithm::infer_crops(const cv::Mat& image, const std::vector<cv::Rect>& crops,
                                                    StageTimes& times) {
  // One request with every crop: the shared model batches them into as few forward passes as it can.
  std::vector<cv::Mat> views;
  for (const auto& c : crops) views.push_back(image(c));
  auto outputs = model_->infer(views, &times);
  std::vector<Detection> found;
  for (size_t i = 0; i < crops.size(); ++i) {
    for (auto& d : outputs.at(i).detections) {
      d.box.x += float(crops[i].x);
      d.box.y += float(crops[i].y);
      // Cut by the crop's edge: a partial body; the object's own crop or a full-frame run finds it whole.
      if (touches_inner_edge(d.box, crops[i], image.size())) continue;
      found.push_back(std::move(d));
    }
  }
  return keep_wanted(non_max_suppression(std::move(found), kCrossCropIou));
}

Prepared MotionAlgorithm::prepare(std::span<const Frame> frames, StageTimes& times) const {
  if (options_.mode != MotionMode::Off || frames.empty()) return nullptr;
  return model_->prepare(frames.back().image, &times);
}

AlgorithmOutput MotionAlgorithm::run(std::span<const Frame> frames, StageTimes& times) {
  return run_prepared(frames, nullptr, times);
}

AlgorithmOutput MotionAlgorithm::run_prepared(std::span<const Frame> frames, const Prepared& prepared,
                                              StageTimes& times) {
  if (frames.empty()) throw std::invalid_argument("motion detector run without frames");
  const Frame& frame = frames.back();
  const cv::Mat& image = frame.image;
  MotionObservation seen;
  if (options_.mode != MotionMode::Off) seen = motion_.observe(image);

  enum class Plan { Full, Carry, Crops } plan = Plan::Full;
  bool due = !has_last_ ||
             (options_.full_frame_every > 0 && frame.pts - last_full_pts_ >= options_.full_frame_every);
  if (options_.mode == MotionMode::Off || seen.warming_up || due) {
    plan = Plan::Full;
  } else if (seen.blobs.empty()) {
    plan = Plan::Carry;  // nothing moves (a global change included): the last result still holds
  } else if (options_.mode == MotionMode::Roi) {
    double crop_area = 0;
    for (const auto& c : seen.crops) crop_area += double(c.area());
    bool worth_it = !seen.crops.empty() && int(seen.crops.size()) <= options_.max_crops &&
                    crop_area <= options_.max_crop_fraction * double(image.total());
    plan = worth_it ? Plan::Crops : Plan::Full;
  }

  AlgorithmOutput out;
  int64_t pixels = 0;
  cv::Mat grey;
  if (options_.mode != MotionMode::Off) grey = motion_grey(image, 1);
  switch (plan) {
    case Plan::Full:
      out.detections = infer_full(image, prepared, times);
      pixels = int64_t(image.total());
      last_full_pts_ = frame.pts;
      last_.clear();
      for (const auto& d : out.detections) last_.push_back({d, grey});
      break;
    case Plan::Carry:
      for (const auto& k : last_) out.detections.push_back(k.detection);
      break;
    case Plan::Crops: {
      out.detections = infer_crops(image, seen.crops, times);
      for (const auto& c : seen.crops) pixels += int64_t(c.area());
      std::vector<Kept> kept;
      for (const auto& d : out.detections) kept.push_back({d, grey});
      // What no crop looked at did not move: still objects found earlier are still there, unless
      // their patch changed (the object left while the background had not yet learnt the gap).
      if (options_.keep_static) {
        for (auto& k : last_) {
          cv::Point2f centre(k.detection.box.x + k.detection.box.width / 2,
                             k.detection.box.y + k.detection.box.height / 2);
          if (inside_any(centre, seen.crops)) continue;
          if (patch_difference(k.grey, grey, k.detection.box) > kStillPatchDifference) continue;
          out.detections.push_back(k.detection);
          kept.push_back(std::move(k));
        }
      }
      last_ = std::move(kept);
      break;
    }
  }
  has_last_ = true;
  out.values["motion"] = {{"mode", to_string(options_.mode)},
                          {"skipped", plan == Plan::Carry},
                          {"carried", plan == Plan::Carry},
                          {"full_frame", plan == Plan::Full},
                          {"crops", plan == Plan::Crops ? seen.crops.size() : 0},
                          {"changed", seen.changed_fraction},
                          {"global_change", seen.global_change}};
  if (plan == Plan::Crops) {
    auto& regions = out.values["motion"]["regions"] = nlohmann::json::array();
    for (const auto& c : seen.crops) regions.push_back({c.x, c.y, c.width, c.height});
  }
  out.values["inferred"] = {{"frames", plan == Plan::Carry ? 0 : 1}, {"pixels", pixels}};
  (plan == Plan::Carry ? skipped_runs_ : inferred_runs_)++;
  return out;
}

}  // namespace sf
