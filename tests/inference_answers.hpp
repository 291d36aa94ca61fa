#pragma once
// What the inference API should answer, worked out without the server: images to send, a model's own
// answer for one image (run in the test's process), and comparisons that allow for what a batched
// forward pass may round differently.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sf::test {

// Frames of vtest.avi, JPEG-encoded (quality 90): `step` frames apart, far enough to hold different people.
std::vector<std::string> vtest_jpegs(int count, int step = 60);
// The first `count` frames of vtest.avi encoded as OpenCV's Python binding encodes them
// (cv2.imencode(".jpg", frame): OpenCV's defaults), so a Python client's requests can be answered here.
std::vector<std::string> vtest_jpegs_as_python_encodes(int count);
std::string base64(const std::string& bytes);

// What `model` answers for each JPEG on its own, as the server writes it.
std::vector<nlohmann::json> direct_answers(const std::string& model, const std::vector<std::string>& jpegs);
nlohmann::json direct_answer(const std::string& model, const std::string& jpeg);

// What mobilenetv2 should answer for one image, worked out without sightflow's pre-processing, decoder or
// JSON: the published recipe of onnx/models' MobileNetV2 (shorter side to 256, centre 224 x 224, RGB,
// ImageNet mean and std) with OpenCV's own blobFromImage, one forward pass of the ONNX file through
// cv::dnn, softmax, the `top_k` best labels of the labels file with their probabilities.
nlohmann::json reference_mobilenetv2_labels(const std::string& jpeg, int top_k = 5);

// Of a detection answer for frame `frame` of vtest.avi, the share of its confident people (score 0.5 and
// up) that overlap a person of the PETS09-S2L1 ground truth by IoU 0.5 or more: a check that needs no
// model at all.
double share_matching_ground_truth(const nlohmann::json& answer, int64_t frame);

// Every confident detection of one answer is in the other (same label, box within a pixel, score within
// 0.01); detections near the threshold may be on one side only.
void expect_same_detections(const nlohmann::json& got, const nlohmann::json& want);
// The same labels with probabilities within `tolerance` (the order, best first, follows from them).
void expect_same_labels(const nlohmann::json& got, const nlohmann::json& want, double tolerance = 1e-4);

}  // namespace sf::test
