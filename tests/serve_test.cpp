// The inference API over real HTTP on 127.0.0.1: TorchServe-style answers, concurrent clients each getting
// their own results out of shared batches, client-side batching (JSON base64 and multipart), batch-1 models
// served by several instances, and the error statuses (400, 404, 413, 503).
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>

#include <cmath>
#include <opencv2/videoio.hpp>
#include <thread>

#include "media/jpeg_codec.hpp"
#include "serve/inference_server.hpp"
#include "serve/prediction_json.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

// Frames of vtest.avi far enough apart to hold different people.
std::vector<std::string> vtest_jpegs(int count) {
  cv::VideoCapture video(test::vtest_path());
  std::vector<std::string> jpegs;
  cv::Mat frame;
  for (int i = 0; video.read(frame) && int(jpegs.size()) < count; ++i) {
    if (i % 60 != 0) continue;
    auto bytes = encode_jpeg(frame, 90);
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

// What the model answers for one image on its own, as the server would write it.
nlohmann::json direct_answer(const std::string& model, const std::string& jpeg) {
  auto m = create_model(model);
  cv::Mat image = decode_jpeg(reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size());
  cv::Mat images[] = {image};
  return nlohmann::json::parse(prediction_json(m->infer(images).at(0), m->info().task).dump());
}

// Every confident detection of one answer is in the other: same label, box within a pixel, score within
// 0.01. A batched forward pass may round differently from a single one, so a detection right at the score
// threshold may be on one side only; those near it (below 0.5) need no partner.
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
  EXPECT_TRUE(covered(got, want) && covered(want, got)) << got << "\nvs\n" << want;
  EXPECT_NEAR(double(got.size()), double(want.size()), 1.0);
}

class Serve : public ::testing::Test {
 protected:
  void start(size_t max_queue = 64, size_t max_body = 16 << 20) {
    service = std::make_unique<InferenceService>(max_queue);
    ServerOptions options;
    options.port = 0;
    options.max_body_bytes = max_body;
    server = std::make_unique<InferenceServer>(*service, options);
    server->start();
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", server->port());
    c.set_read_timeout(60, 0);
    return c;
  }
  nlohmann::json post_image(const std::string& model, const std::string& jpeg, int expected_status = 200) {
    auto res = client().Post(("/predictions/" + model).c_str(), jpeg, "image/jpeg");
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, expected_status) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    return nlohmann::json::parse(res->body);
  }
  void SetUp() override { start(); }

  std::unique_ptr<InferenceService> service;
  std::unique_ptr<InferenceServer> server;
};

TEST_F(Serve, PingAndTheModelList) {
  auto res = client().Get("/ping");
  ASSERT_TRUE(res);
  EXPECT_EQ(nlohmann::json::parse(res->body)["status"], "Healthy");
  auto models = nlohmann::json::parse(client().Get("/models")->body)["models"];
  std::set<std::string> names;
  for (const auto& m : models) names.insert(m["modelName"].get<std::string>());
  for (const char* n : {"yolox-nano", "yolo-fastest-xl", "mobilenetv2", "yunet", "hog"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST_F(Serve, ConcurrentClientsGetTheirOwnAnswersOutOfSharedBatches) {
  const std::string model = "yolo-fastest-xl";
  auto res =
      client().Post("/models?model_name=yolo-fastest-xl&batch_size=4&max_batch_delay=50", "", "text/plain");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto jpegs = vtest_jpegs(8);
  ASSERT_EQ(jpegs.size(), 8u);
  std::vector<nlohmann::json> want;
  for (const auto& j : jpegs) want.push_back(direct_answer(model, j));
  std::vector<std::vector<nlohmann::json>> got(jpegs.size());
  std::vector<std::thread> clients;
  for (size_t c = 0; c < jpegs.size(); ++c) {
    clients.emplace_back([&, c] {
      for (int round = 0; round < 3; ++round) got[c].push_back(post_image(model, jpegs[c]));
    });
  }
  for (auto& t : clients) t.join();
  std::set<size_t> counts;
  for (size_t c = 0; c < jpegs.size(); ++c) {
    counts.insert(want[c].size());
    for (const auto& answer : got[c]) expect_same_detections(answer, want[c]);
  }
  EXPECT_GE(counts.size(), 3u) << "the frames should differ in how many people they hold";
  // The requests were joined: some forward passes carried more than one image.
  auto stats = nlohmann::json::parse(client().Get("/models/yolo-fastest-xl")->body)[0];
  EXPECT_EQ(stats["batchSize"], 4);
  EXPECT_EQ(stats["stats"]["items"], 24);
  EXPECT_GT(stats["stats"]["mean_batch_size"].get<double>(), 1.5) << stats;
  auto metrics = client().Get("/metrics")->body;
  EXPECT_NE(metrics.find("sightflow_inference_requests_total{model=\"yolo-fastest-xl\",code=\"200\"} 24"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("sightflow_inference_batch_size_sum{model=\"yolo-fastest-xl\"} 24"),
            std::string::npos);
}

TEST_F(Serve, ClientSideBatchesAnswerInOrder) {
  auto jpegs = vtest_jpegs(3);
  nlohmann::json body = nlohmann::json::array();
  for (const auto& j : jpegs) body.push_back(base64(j));
  auto res = client().Post("/predictions/yolo-fastest-body", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto answers = nlohmann::json::parse(res->body);
  ASSERT_EQ(answers.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    expect_same_detections(answers[i], direct_answer("yolo-fastest-body", jpegs[i]));

  httplib::MultipartFormDataItems parts = {{"image", jpegs[2], "2.jpg", "image/jpeg"},
                                           {"image", jpegs[0], "0.jpg", "image/jpeg"}};
  auto multipart = client().Post("/predictions/yolo-fastest-body", parts);
  ASSERT_TRUE(multipart);
  ASSERT_EQ(multipart->status, 200) << multipart->body;
  auto listed = nlohmann::json::parse(multipart->body);
  ASSERT_EQ(listed.size(), 2u);
  expect_same_detections(listed[0], answers[2]);
  expect_same_detections(listed[1], answers[0]);
}

TEST_F(Serve, ClassifiersAnswerLabelsWithProbabilitiesAndBatchOneModelsUseSeveralInstances) {
  auto fish = test::read_file("/usr/share/doc/opencv-doc/examples/data/HappyFish.jpg");
  auto labels = post_image("mobilenetv2", fish);
  ASSERT_TRUE(labels.is_object());
  EXPECT_EQ(labels.size(), 5u);
  EXPECT_EQ(labels, direct_answer("mobilenetv2", fish));
  // yolox-nano runs batch 1 only: two instances serve concurrent requests, each answer still its own.
  auto res = client().Post("/models?model_name=yolox-nano&initial_workers=2", "", "text/plain");
  ASSERT_EQ(res->status, 200) << res->body;
  auto jpegs = vtest_jpegs(4);
  std::vector<nlohmann::json> got(jpegs.size());
  std::vector<std::thread> clients;
  for (size_t c = 0; c < jpegs.size(); ++c)
    clients.emplace_back([&, c] { got[c] = post_image("yolox-nano", jpegs[c]); });
  for (auto& t : clients) t.join();
  for (size_t c = 0; c < jpegs.size(); ++c)
    expect_same_detections(got[c], direct_answer("yolox-nano", jpegs[c]));
  auto stats = nlohmann::json::parse(client().Get("/models/yolox-nano")->body)[0];
  EXPECT_EQ(stats["workers"].size(), 2u);
  EXPECT_EQ(stats["batchSize"], 1);
  EXPECT_EQ(stats["stats"]["batch_sizes"], nlohmann::json({{"1", 4}}));
}

TEST_F(Serve, BadRequestsGetAStatusAndAMessage) {
  auto jpeg = vtest_jpegs(1).at(0);
  auto garbage = post_image("yolo-fastest-body", "not an image at all", 400);
  EXPECT_EQ(garbage["code"], 400);
  EXPECT_EQ(garbage["type"], "BadRequestException");
  EXPECT_NE(garbage["message"].get<std::string>().find("not a decodable image"), std::string::npos)
      << garbage;
  auto truncated = post_image("yolo-fastest-body", jpeg.substr(0, jpeg.size() / 2), 400);
  EXPECT_NE(truncated["message"].get<std::string>().find("truncated"), std::string::npos) << truncated;
  auto unknown = post_image("no-such-model", jpeg, 404);
  EXPECT_EQ(unknown["type"], "ModelNotFoundException");
  EXPECT_NE(unknown["message"].get<std::string>().find("no-such-model"), std::string::npos) << unknown;
  auto bad_json = client().Post("/predictions/yolo-fastest-body", R"(["@@@@"])", "application/json");
  EXPECT_EQ(bad_json->status, 400) << bad_json->body;
  EXPECT_NE(bad_json->body.find("image 0"), std::string::npos) << bad_json->body;
  auto no_route = client().Get("/nothing/here");
  EXPECT_EQ(no_route->status, 404);
  EXPECT_EQ(nlohmann::json::parse(no_route->body)["type"], "ResourceNotFoundException");
  auto bad_setting = client().Post("/models?model_name=yolo-fastest&batch_size=lots", "", "text/plain");
  EXPECT_EQ(bad_setting->status, 400) << bad_setting->body;
  // A number beyond an int was cast anyway (undefined behaviour); now it is refused by name.
  auto huge = client().Post("/models?model_name=yolo-fastest&initial_workers=1e20", "", "text/plain");
  EXPECT_EQ(huge->status, 400) << huge->body;
  EXPECT_NE(huge->body.find("initial_workers is out of range"), std::string::npos) << huge->body;
}

TEST_F(Serve, LimitsAnswer413And503) {
  server.reset();
  start(/*max_queue=*/2, /*max_body=*/50 << 10);
  auto jpegs = vtest_jpegs(3);
  ASSERT_GT(jpegs[0].size(), 50u << 10);
  auto too_big = post_image("yolo-fastest-body", jpegs[0], 413);
  EXPECT_EQ(too_big["code"], 413);
  // Three images at once exceed a queue of two: refused at once, with a hint when to come back.
  server.reset();
  start(/*max_queue=*/2);
  nlohmann::json body = nlohmann::json::array();
  for (const auto& j : jpegs) body.push_back(base64(j));
  auto res = client().Post("/predictions/yolo-fastest-body", body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_EQ(nlohmann::json::parse(res->body)["type"], "ServiceUnavailableException");
  EXPECT_EQ(post_image("yolo-fastest-body", jpegs[0]).is_array(), true);  // one image still fits
}

}  // namespace
}  // namespace sf
