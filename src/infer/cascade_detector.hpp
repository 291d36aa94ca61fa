#pragma once
// OpenCV's Viola-Jones cascades (Haar or LBP XML files from opencv-data): faces, full bodies, ...
#include <opencv2/objdetect.hpp>

#include "sightflow/model.hpp"

namespace sf {

struct CascadeParams {
  std::string file;  // cascade XML path
  std::string label = "face";
  double upscale = 1.0;  // > 1 finds objects smaller than the cascade's window
  double scale_factor = 1.1;
  int min_neighbors = 3;
  int min_size = 0;  // pixels in the source image; 0: the cascade's window
  int max_size = 0;  // 0: unlimited
};

class CascadeDetector : public Model {
 public:
  explicit CascadeDetector(const CascadeParams& params);  // throws std::invalid_argument if the file fails
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times) override;

 private:
  CascadeParams params_;
  ModelInfo info_;
  cv::CascadeClassifier cascade_;
};

}  // namespace sf
