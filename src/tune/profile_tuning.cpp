#include "tune/profile_tuning.hpp"

#include <algorithm>
#include <opencv2/imgcodecs.hpp>
#include <stdexcept>

#include "sightflow/evaluation.hpp"

namespace sf {
namespace {

struct Sample {
  std::vector<Detection> reference, edge;  // edge: every detection down to the floor
};

// Matches detections (best score first) to reference boxes of their class.
F1Score score(const std::vector<Sample>& samples, const CameraProfile& profile,
              const std::set<std::string>& classes, double min_iou) {
  F1Score s;
  for (const auto& sample : samples) {
    auto kept = profile.apply(sample.edge);
    std::erase_if(kept, [&](const Detection& d) { return !classes.count(d.label); });
    std::stable_sort(kept.begin(), kept.end(),
                     [](const auto& a, const auto& b) { return a.score > b.score; });
    std::vector<bool> taken(sample.reference.size(), false);
    int64_t truth = 0;
    for (const auto& r : sample.reference) truth += classes.count(r.label) ? 1 : 0;
    int64_t tp = 0;
    for (const auto& d : kept) {
      int best = -1;
      float best_iou = float(min_iou);
      for (size_t j = 0; j < sample.reference.size(); ++j) {
        if (taken[j] || sample.reference[j].label != d.label) continue;
        float v = iou(d.box, sample.reference[j].box);
        if (v >= best_iou) best_iou = v, best = int(j);
      }
      if (best >= 0) {
        taken[size_t(best)] = true;
        ++tp;
      } else {
        ++s.fp;
      }
    }
    s.tp += tp;
    s.fn += truth - tp;
  }
  return s;
}

bool confirmed(const Detection& d, const std::vector<Detection>& reference, double min_iou) {
  return std::any_of(reference.begin(), reference.end(),
                     [&](const Detection& r) { return r.label == d.label && iou(d.box, r.box) >= min_iou; });
}

// Places where the edge model reports, unconfirmed by the reference, the same box in many images.
std::vector<cv::Rect2f> static_regions(const std::vector<Sample>& samples, const CameraProfile& thresholds,
                                       const TuneOptions& o) {
  constexpr float kSamePlace = 0.6f;
  struct Place {
    cv::Rect2f box;
    std::set<size_t> unconfirmed, confirmed;
  };
  std::vector<Place> places;
  for (size_t i = 0; i < samples.size(); ++i) {
    for (const auto& d : thresholds.apply(samples[i].edge)) {
      auto it = std::find_if(places.begin(), places.end(),
                             [&](const Place& p) { return iou(p.box, d.box) >= kSamePlace; });
      if (it == places.end()) it = places.insert(places.end(), Place{d.box, {}, {}});
      (confirmed(d, samples[i].reference, o.iou) ? it->confirmed : it->unconfirmed).insert(i);
    }
  }
  std::vector<cv::Rect2f> regions;
  for (const auto& p : places) {
    bool frequent = double(p.unconfirmed.size()) >= o.static_share * double(samples.size());
    // Someone standing there sometimes is fine; a place the reference (almost) never confirms is not.
    bool never_real = p.confirmed.size() * 10 <= p.unconfirmed.size();
    if (frequent && never_real) regions.push_back(p.box);
  }
  return regions;
}

}  // namespace

TuneResult tune_profile(const Dataset& dataset, Model& model, const std::string& model_name,
                        const ModelParams& params, const TuneOptions& o) {
  if (o.holdout <= 0 || o.holdout >= 1) throw std::invalid_argument("--holdout must be in (0, 1)");
  size_t heldout = size_t(double(dataset.images.size()) * o.holdout);
  if (heldout < 1 || dataset.images.size() - heldout < 2)
    throw std::invalid_argument("dataset " + dataset.info.dir.string() + " has " +
                                std::to_string(dataset.images.size()) +
                                " images: too few to tune and hold out");
  std::vector<Sample> samples;
  for (const auto& image : dataset.images) {
    cv::Mat pixels = cv::imread(image.path.string());
    if (pixels.empty()) throw std::runtime_error("cannot read dataset image " + image.path.string());
    Sample s;
    s.reference = image.boxes;
    s.edge = std::move(model.infer(std::span<const cv::Mat>(&pixels, 1)).at(0).detections);
    samples.push_back(std::move(s));
  }
  std::set<std::string> classes = o.classes;
  if (classes.empty())
    for (const auto& s : samples)
      for (const auto& r : s.reference) classes.insert(r.label);
  std::vector<Sample> tuning(samples.begin(), samples.end() - long(heldout));
  std::vector<Sample> held(samples.end() - long(heldout), samples.end());

  TuneResult result;
  result.tuning_images = tuning.size();
  result.heldout_images = held.size();
  CameraProfile baseline;
  baseline.model = model_name;
  baseline.default_threshold = o.baseline;
  result.before = score(held, baseline, classes, o.iou);

  // Thresholds first (without a mask), then the static regions at those thresholds, then the thresholds
  // again with the mask: a static false positive no longer pushes its class's threshold up.
  CameraProfile p = baseline;
  p.params = params;
  auto tune_thresholds = [&] {
    for (const auto& label : classes) {
      float best_t = o.baseline;
      double best_f1 = -1;
      for (float t = o.floor; t < 0.951f; t += 0.01f) {
        p.thresholds[label] = t;
        double f1 = score(tuning, p, {label}, o.iou).f1();
        if (f1 > best_f1 + 1e-9) best_f1 = f1, best_t = t;
      }
      p.thresholds[label] = best_t;
    }
  };
  tune_thresholds();
  p.static_regions = static_regions(tuning, p, o);
  if (!p.static_regions.empty()) tune_thresholds();
  result.after = score(held, p, classes, o.iou);
  p.report = {{"tuning_images", result.tuning_images},
              {"heldout_images", result.heldout_images},
              {"f1_before", result.before.f1()},
              {"f1_after", result.after.f1()},
              {"precision_before", result.before.precision()},
              {"recall_before", result.before.recall()},
              {"precision_after", result.after.precision()},
              {"recall_after", result.after.recall()},
              {"baseline_threshold", o.baseline},
              {"reference_model", dataset.manifest.value("reference_model", "")}};
  result.profile = std::move(p);
  return result;
}

}  // namespace sf
