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

// Every confident detection of one answer is in the other (same label, box within a pixel, score within
// 0.01); detections near the threshold may be on one side only.
void expect_same_detections(const nlohmann::json& got, const nlohmann::json& want);
// The same labels with probabilities within 1e-4 (the order, best first, follows from them).
void expect_same_labels(const nlohmann::json& got, const nlohmann::json& want);

}  // namespace sf::test
