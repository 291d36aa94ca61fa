#include "inference_answers.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "media/jpeg_codec.hpp"
#include "serve/prediction_json.hpp"
#include "sightflow/evaluation.hpp"
#include "test_support.hpp"

namespace sf::test {

std::vector<std::string> vtest_jpegs(int count, int step) {
  cv::VideoCapture video(vtest_path());
  std::vector<std::string> jpegs;
  cv::Mat frame;
  for (int i = 0; video.read(frame) && int(jpegs.size()) < count; ++i) {
    if (i % step != 0) continue;
    auto bytes = encode_jpeg(frame, 90);
    jpegs.emplace_back(bytes.begin(), bytes.end());
  }
  return jpegs;
}

std::vector<std::string> vtest_jpegs_as_python_encodes(int count) {
  cv::VideoCapture video(vtest_path());
  std::vector<std::string> jpegs;
  cv::Mat frame;
  while (int(jpegs.size()) < count && video.read(frame)) {
    std::vector<uchar> bytes;
    cv::imencode(".jpg", frame, bytes);
    jpegs.emplace_back(bytes.begin(), bytes.end());
  }
  return jpegs;
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()));
  out.resize(size_t(n));
  return out;
}

std::vector<nlohmann::json> direct_answers(const std::string& model, const std::vector<std::string>& jpegs) {
  auto m = create_model(model);
  std::vector<nlohmann::json> answers;
  for (const auto& jpeg : jpegs) {
    cv::Mat images[] = {decode_jpeg(reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size())};
    answers.push_back(nlohmann::json::parse(prediction_json(m->infer(images).at(0), m->info().task).dump()));
  }
  return answers;
}

nlohmann::json direct_answer(const std::string& model, const std::string& jpeg) {
  return direct_answers(model, {jpeg}).at(0);
}

nlohmann::json reference_mobilenetv2_labels(const std::string& jpeg, int top_k) {
  const char* env = std::getenv("SIGHTFLOW_MODELS");
  const std::string folder =
      (env && *env ? std::string(env) : shared_dir() + "/models") + "/mobilenetv2-12-int8/";
  static cv::dnn::Net net = cv::dnn::readNetFromONNX(folder + "mobilenetv2-12-int8.onnx");
  std::vector<std::string> labels;
  std::ifstream label_file(folder + "imagenet_labels.txt");
  for (std::string line; std::getline(label_file, line);) labels.push_back(line);

  cv::Mat image = cv::imdecode(std::vector<uchar>(jpeg.begin(), jpeg.end()), cv::IMREAD_COLOR);
  const double r = 256.0 / std::min(image.cols, image.rows);
  cv::Mat resized;
  cv::resize(image, resized, {int(std::lround(image.cols * r)), int(std::lround(image.rows * r))}, 0, 0,
             cv::INTER_LINEAR);
  cv::Mat crop = resized(cv::Rect((resized.cols - 224) / 2, (resized.rows - 224) / 2, 224, 224));
  cv::Mat blob = cv::dnn::blobFromImage(crop, 1 / 255.0, {224, 224}, cv::Scalar(), /*swapRB=*/true);
  const float mean[] = {0.485f, 0.456f, 0.406f}, stddev[] = {0.229f, 0.224f, 0.225f};
  for (int c = 0; c < 3; ++c) {
    cv::Mat plane(224, 224, CV_32F, blob.ptr<float>(0, c));
    plane = (plane - mean[c]) / stddev[c];
  }
  net.setInput(blob);
  cv::Mat logits = net.forward().reshape(1, 1);
  std::vector<double> p(logits.begin<float>(), logits.end<float>());
  const double max = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (double& v : p) sum += (v = std::exp(v - max));
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  // The int8 model's outputs tie often: equal probabilities rank by class index, lower first.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  nlohmann::json answer = nlohmann::json::object();
  for (int i = 0; i < top_k; ++i) answer[labels.at(order[size_t(i)])] = p[order[size_t(i)]] / sum;
  return answer;
}

double share_matching_ground_truth(const nlohmann::json& answer, int64_t frame) {
  static const auto truth = load_mot_ground_truth(shared_dir() + "/eval/pets09-s2l1/gt.txt");
  static const std::vector<GroundTruthBox> nobody;
  const auto& people_there = truth.count(frame) ? truth.at(frame) : nobody;
  int people = 0, matched = 0;
  for (const auto& d : answer) {
    if (d["label"] != "person" || d["score"].get<double>() < 0.5) continue;
    ++people;
    const cv::Rect2d box(d["box"][0].get<double>(), d["box"][1].get<double>(), d["box"][2].get<double>(),
                         d["box"][3].get<double>());
    bool found = false;
    for (const auto& g : people_there) {
      const cv::Rect2d t(g.box);
      const double overlap = (box & t).area();
      found = found || (!g.ignore && overlap >= 0.5 * (box.area() + t.area() - overlap));
    }
    matched += found;
  }
  return people ? double(matched) / people : 0.0;
}

void expect_same_detections(const nlohmann::json& got, const nlohmann::json& want) {
  auto covered = [](const nlohmann::json& from, const nlohmann::json& in) {
    for (const auto& d : from) {
      if (d["score"].get<double>() < 0.5) continue;
      bool found = false;
      for (const auto& e : in) {
        bool same =
            e["label"] == d["label"] && std::abs(e["score"].get<double>() - d["score"].get<double>()) <= 0.01;
        for (int k = 0; same && k < 4; ++k)
          same = std::abs(e["box"][k].get<double>() - d["box"][k].get<double>()) <= 1.0;
        found = found || same;
      }
      if (!found) return false;
    }
    return true;
  };
  EXPECT_TRUE(got.is_array()) << got;
  EXPECT_TRUE(covered(got, want) && covered(want, got)) << got << "\nvs\n" << want;
  EXPECT_NEAR(double(got.size()), double(want.size()), 1.0);
}

void expect_same_labels(const nlohmann::json& got, const nlohmann::json& want, double tolerance) {
  ASSERT_TRUE(got.is_object()) << got;
  ASSERT_EQ(got.size(), want.size()) << got << "\nvs\n" << want;
  for (const auto& [label, probability] : want.items()) {
    ASSERT_TRUE(got.contains(label)) << label << " missing from " << got;
    EXPECT_NEAR(got[label].get<double>(), probability.get<double>(), tolerance) << label;
  }
}

}  // namespace sf::test
