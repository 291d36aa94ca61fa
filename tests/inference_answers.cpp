#include "inference_answers.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "media/jpeg_codec.hpp"
#include "serve/prediction_json.hpp"
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

void expect_same_labels(const nlohmann::json& got, const nlohmann::json& want) {
  ASSERT_TRUE(got.is_object()) << got;
  ASSERT_EQ(got.size(), want.size()) << got << "\nvs\n" << want;
  for (const auto& [label, probability] : want.items()) {
    ASSERT_TRUE(got.contains(label)) << label << " missing from " << got;
    EXPECT_NEAR(got[label].get<double>(), probability.get<double>(), 1e-4) << label;
  }
}

}  // namespace sf::test
