#include "infer/dnn/yunet_model.hpp"

#include "infer/decoders/decoders.hpp"

namespace sf {

YunetModel::YunetModel(DnnModelSpec spec) : spec_(std::move(spec)) {
  const auto& e = spec_.entry;
  info_.name = e.name;
  info_.task = ModelTask::Detection;
  info_.max_batch = 1;
  info_.class_names = e.class_names.empty() ? std::vector<std::string>{"face"} : e.class_names;
  input_size_ = e.preprocess.input;
  std::string model = spec_.files.at("model").string();
  try {
    detector_ = cv::FaceDetectorYN::create(model, "", input_size_, e.score_threshold, e.nms_threshold, 5000);
  } catch (const cv::Exception& ex) {
    throw std::runtime_error("model '" + e.name + "': OpenCV cannot load " + model + " as YuNet: " + ex.err);
  }
}

std::vector<ModelOutput> YunetModel::infer(std::span<const cv::Mat> images, StageTimes* times) {
  std::vector<ModelOutput> outputs;
  for (const cv::Mat& image : images) {
    if (image.empty() || image.type() != CV_8UC3)
      throw std::invalid_argument("model '" + info_.name + "' needs a non-empty 8-bit BGR image");
    Stopwatch watch;
    if (image.size() != input_size_) {
      input_size_ = image.size();
      detector_->setInputSize(input_size_);
    }
    cv::Mat faces;
    try {
      detector_->detect(image, faces);
    } catch (const cv::Exception& ex) {
      throw std::runtime_error("model '" + info_.name + "': detection failed: " + ex.err);
    }
    if (times) times->model += watch.lap();
    ModelOutput out;
    out.detections = decode_yunet(faces, spec_.entry.score_threshold);
    for (auto& d : out.detections) {
      d.label = info_.class_names.at(0);
      d.box &= cv::Rect2f(0, 0, float(image.cols), float(image.rows));
    }
    outputs.push_back(std::move(out));
    if (times) times->post += watch.lap();
  }
  return outputs;
}

}  // namespace sf
