#pragma once
// OpenCV's HOG + linear SVM people detector (Dalal-Triggs default people model), no weights needed.
#include <opencv2/objdetect.hpp>

#include "sightflow/model.hpp"

namespace sf {

struct HogParams {
  // HOG's window is 64x128 and people smaller than ~100 px are missed; upscaling the frame lets it find
  // PETS-size pedestrians (about 60-90 px tall in vtest.avi).
  double upscale = 1.5;
  double hit_threshold = 0.0;  // SVM margin; higher = fewer, surer detections
  int win_stride = 8;
  int padding = 8;
  // Pyramid step. 1.1 rather than OpenCV's 1.05: on vtest.avi it is faster and, with fewer overlapping
  // windows to group, more precise (bench/RESULTS.md has the sweep).
  double scale = 1.1;
  double group_threshold = 2;  // min overlapping windows kept by grouping
  // The 64x128 window holds the body with margins; these fractions of the box are cut from each side so
  // that boxes fit the body (as annotated in MOT ground truth).
  double shrink_x = 0.20;
  double shrink_y = 0.15;
  double min_score = 0.0;  // drop detections whose SVM score is lower
};

// Maps a box found on the upscaled image back to source pixels and trims the window margins. Pure, tested.
cv::Rect2f hog_box_to_source(const cv::Rect& found, const HogParams& p, const cv::Size& source_size);

class HogPeopleDetector : public Model {
 public:
  explicit HogPeopleDetector(const HogParams& params);
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times) override;

 private:
  HogParams params_;
  ModelInfo info_;
  cv::HOGDescriptor hog_;
};

}  // namespace sf
