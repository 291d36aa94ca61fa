#pragma once
// YuNet faces with five landmarks through cv::FaceDetectorYN, which decodes the prior boxes itself and
// runs at each frame's own size (no resize, so small faces keep their pixels).
#include <opencv2/objdetect/face.hpp>

#include "infer/dnn/dnn_model.hpp"

namespace sf {

class YunetModel : public Model {
 public:
  explicit YunetModel(DnnModelSpec spec);
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes* times) override;

 private:
  DnnModelSpec spec_;
  ModelInfo info_;
  cv::Ptr<cv::FaceDetectorYN> detector_;
  cv::Size input_size_;
};

}  // namespace sf
