// The inference API as `sightflow serve` ships it (its web server with the inference routes, the token,
// --max-body-mb and --max-queue), over real HTTP on 127.0.0.1: TorchServe-style answers, concurrent
// clients each getting their own results out of shared batches, client-side batching (JSON base64 as an
// array or an object, multipart), batch-1 models served by several instances, the management API
// (register under another name, scale, describe, unregister), and the error statuses (400, 401, 404,
// 409, 413, 503).
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "image_bombs.hpp"
#include "inference_answers.hpp"
#include "test_support.hpp"
#include "web_process.hpp"

namespace sf {
namespace {

const std::string kToken = "serve-test-token";
// Probabilities against test::reference_mobilenetv2_labels, which computes them its own way (OpenCV's
// blob, its own softmax in double): measured at most 5e-7 apart, float rounding; 1e-5 leaves room for it.
constexpr double kReferenceTolerance = 1e-5;
// yolo-fastest-xl's confident people on frames 0, 60, ..., 420 of vtest.avi that match a ground-truth
// person (IoU 0.5). Measured: 1, 0.8, 0.86, 0.71, 0.83, 0.86, 0.83 and 0.67 (4 of 6), mean 0.82; one box
// more or less moves a frame's share by 0.14 to 0.2 and the mean by about 0.02. The floors sit one box
// under the worst frame and one box under the mean (batched passes may round a box near the threshold).
constexpr double kLeastShareOfAFrame = 0.5, kLeastMeanShare = 0.8;

class Serve : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {"serve", "--token", kToken};
    args.insert(args.end(), flags.begin(), flags.end());
    server.reset();
    server = std::make_unique<test::WebProcess>(args, "--listen", dir, "serve");
  }
  void SetUp() override { start(); }

  httplib::Client client() const {
    auto c = server->client();
    c.set_read_timeout(60, 0);
    return c;
  }
  static httplib::Headers token() { return {{"Authorization", "Bearer " + kToken}}; }

  // A request and its JSON answer; fails the test on another status or a body that is not JSON.
  nlohmann::json expect(const httplib::Result& res, int status) const {
    EXPECT_TRUE(res) << "no answer; the server's log:\n" << server->log();
    if (!res) return {};
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    auto json = nlohmann::json::parse(res->body, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << res->body;
    return json;
  }
  nlohmann::json post_image(const std::string& model, const std::string& jpeg, int status = 200) const {
    return expect(client().Post(("/predictions/" + model).c_str(), jpeg, "image/jpeg"), status);
  }
  nlohmann::json post_json(const std::string& model, const nlohmann::json& body, int status = 200) const {
    return expect(client().Post(("/predictions/" + model).c_str(), body.dump(), "application/json"), status);
  }
  nlohmann::json manage(const std::string& method, const std::string& path, int status = 200) const {
    auto c = client();
    auto res = method == "POST"  ? c.Post(path.c_str(), token(), "", "text/plain")
               : method == "PUT" ? c.Put(path.c_str(), token(), "", "text/plain")
                                 : c.Delete(path.c_str(), token());
    return expect(res, status);
  }
  nlohmann::json describe(const std::string& model) const {
    return expect(client().Get(("/models/" + model).c_str()), 200).at(0);
  }

  test::TempDir dir;
  std::unique_ptr<test::WebProcess> server;
};

TEST_F(Serve, PingTheModelListAndKeptAliveConnections) {
  auto c = client();
  c.set_keep_alive(true);
  auto res = c.Get("/ping");
  EXPECT_EQ(expect(res, 200)["status"], "Healthy");
  // A camera client sends thousands of requests on one connection; cpp-httplib's default closes it
  // after 5.
  auto keep_alive = res->get_header_value("Keep-Alive");
  auto max = keep_alive.find("max=");
  ASSERT_NE(max, std::string::npos) << keep_alive;
  EXPECT_GE(std::stoi(keep_alive.substr(max + 4)), 1000) << keep_alive;

  auto models = expect(client().Get("/models"), 200)["models"];
  std::vector<std::string> names;
  for (const auto& m : models) names.push_back(m["modelName"].get<std::string>());
  for (const char* n : {"yolox-nano", "yolo-fastest-xl", "mobilenetv2", "yunet", "hog"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  // TorchServe's pages: limit, then next_page_token from the answer.
  auto first = expect(client().Get("/models?limit=2"), 200);
  ASSERT_EQ(first["models"].size(), 2u);
  EXPECT_EQ(first["models"][1]["modelName"], names[1]);
  ASSERT_EQ(first["nextPageToken"], "2");
  auto second = expect(client().Get("/models?limit=2&next_page_token=2"), 200);
  EXPECT_EQ(second["models"][0]["modelName"], names[2]);
}

TEST_F(Serve, ConcurrentClientsGetTheirOwnAnswersOutOfSharedBatches) {
  const std::string model = "yolo-fastest-xl";
  // A batch leaves when 4 images wait (or after 10 s): eight clients always keep four waiting, so every
  // forward pass is full, however the requests interleave.
  manage("POST", "/models?url=yolo-fastest-xl&batch_size=4&max_batch_delay=10000");
  auto jpegs = test::vtest_jpegs(8);
  ASSERT_EQ(jpegs.size(), 8u);
  auto want = test::direct_answers(model, jpegs);
  std::vector<std::vector<nlohmann::json>> got(jpegs.size());
  std::vector<std::thread> clients;
  for (size_t c = 0; c < jpegs.size(); ++c) {
    clients.emplace_back([&, c] {
      for (int round = 0; round < 3; ++round) got[c].push_back(post_image(model, jpegs[c]));
    });
  }
  for (auto& t : clients) t.join();
  std::set<size_t> counts;
  double mean_share = 0;
  for (size_t c = 0; c < jpegs.size(); ++c) {
    counts.insert(want[c].size());
    for (const auto& answer : got[c]) test::expect_same_detections(answer, want[c]);
    // And right by the PETS ground truth, which knows nothing of the model.
    const double share = test::share_matching_ground_truth(got[c][0], int64_t(c) * 60);
    EXPECT_GE(share, kLeastShareOfAFrame) << "frame " << c * 60 << ": " << got[c][0];
    mean_share += share / double(jpegs.size());
  }
  EXPECT_GE(mean_share, kLeastMeanShare);
  EXPECT_GE(counts.size(), 3u) << "the frames should differ in how many people they hold";
  auto stats = describe(model);
  EXPECT_EQ(stats["batchSize"], 4);
  EXPECT_EQ(stats["maxBatchDelay"], 10000);
  EXPECT_EQ(stats["stats"]["items"], 24);
  EXPECT_EQ(stats["stats"]["batch_sizes"], nlohmann::json({{"4", 6}})) << stats;
  auto metrics = client().Get("/metrics")->body;
  EXPECT_NE(metrics.find("sightflow_inference_requests_total{code=\"200\",model=\"yolo-fastest-xl\"} 24\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find("sightflow_inference_request_duration_seconds_count{model=\"yolo-fastest-xl\"} 24\n"),
      std::string::npos);
  EXPECT_NE(metrics.find("sightflow_inference_batch_size_sum{model=\"yolo-fastest-xl\"} 24\n"),
            std::string::npos);
  EXPECT_EQ(test::promtool_problems(metrics), "");
}

TEST_F(Serve, ClientSideBatchesAnswerInOrder) {
  const std::string model = "yolo-fastest-body";
  auto jpegs = test::vtest_jpegs(3);
  nlohmann::json array = nlohmann::json::array();
  for (const auto& j : jpegs) array.push_back(test::base64(j));
  auto answers = post_json(model, array);
  ASSERT_EQ(answers.size(), 3u) << answers;
  auto want = test::direct_answers(model, jpegs);
  for (size_t i = 0; i < 3; ++i) test::expect_same_detections(answers[i], want[i]);

  // TorchServe's client-batching example sends {"0": "<b64>", "1": ...}: answers come in key order, by
  // number ("10" after "9"), whatever order the keys were written in.
  auto classified = test::vtest_jpegs(11, 20);
  ASSERT_EQ(classified.size(), 11u);
  std::string object = "{";
  for (size_t i = classified.size(); i-- > 0;)
    object += "\"" + std::to_string(i) + "\": \"" + test::base64(classified[i]) + "\"" + (i ? ", " : "}");
  auto labels = expect(client().Post("/predictions/mobilenetv2", object, "application/json"), 200);
  ASSERT_TRUE(labels.is_array()) << labels;
  ASSERT_EQ(labels.size(), 11u);
  for (size_t i = 0; i < classified.size(); ++i)
    test::expect_same_labels(labels[i], test::reference_mobilenetv2_labels(classified[i]),
                             kReferenceTolerance);

  // Multipart: several parts answer a list by part name; one part answers its result alone, as
  // TorchServe's handlers do.
  httplib::MultipartFormDataItems parts = {{"image", jpegs[2], "2.jpg", "image/jpeg"},
                                           {"data", jpegs[0], "0.jpg", "image/jpeg"}};
  auto listed = expect(client().Post(("/predictions/" + model).c_str(), parts), 200);
  ASSERT_EQ(listed.size(), 2u);
  test::expect_same_detections(listed[0], answers[0]);
  test::expect_same_detections(listed[1], answers[2]);
  httplib::MultipartFormDataItems one = {{"data", classified[3], "kitten.jpg", "image/jpeg"}};
  auto alone = expect(client().Post("/predictions/mobilenetv2", one), 200);
  test::expect_same_labels(alone, labels[3]);
}

TEST_F(Serve, ClassifiersAnswerLabelsWithProbabilitiesAndBatchOneModelsUseSeveralInstances) {
  auto fish = test::read_file("/usr/share/doc/opencv-doc/examples/data/HappyFish.jpg");
  auto labels = post_image("mobilenetv2", fish);
  ASSERT_TRUE(labels.is_object()) << labels;
  EXPECT_EQ(labels.size(), 5u);
  test::expect_same_labels(labels, test::reference_mobilenetv2_labels(fish), kReferenceTolerance);
  // yolox-nano runs batch 1 only: two instances serve concurrent requests, each answer still its own.
  manage("POST", "/models?model_name=yolox-nano&initial_workers=2");
  auto jpegs = test::vtest_jpegs(4);
  std::vector<nlohmann::json> got(jpegs.size());
  std::vector<std::thread> clients;
  for (size_t c = 0; c < jpegs.size(); ++c)
    clients.emplace_back([&, c] { got[c] = post_image("yolox-nano", jpegs[c]); });
  for (auto& t : clients) t.join();
  auto want = test::direct_answers("yolox-nano", jpegs);
  for (size_t c = 0; c < jpegs.size(); ++c) test::expect_same_detections(got[c], want[c]);
  auto stats = describe("yolox-nano");
  EXPECT_EQ(stats["workers"].size(), 2u);
  EXPECT_EQ(stats["batchSize"], 1);
  EXPECT_EQ(stats["stats"]["batch_sizes"], nlohmann::json({{"1", 4}}));
}

TEST_F(Serve, ModelsAreRegisteredUnderOtherNamesScaledAndUnregistered) {
  auto frame = test::vtest_jpegs(1).at(0);
  auto want = test::direct_answer("mobilenetv2", frame);
  // TorchServe's registration: the archive URL names the model, model_name the name it is served as.
  auto registered = manage("POST",
                           "/models?url=https://example.org/mar_files/mobilenetv2.mar&model_name=resnet-18"
                           "&batch_size=4&max_batch_delay=20&initial_workers=1&synchronous=true");
  EXPECT_EQ(registered["status"], "Model \"resnet-18\" Version: 1.0 registered with 1 initial workers");
  test::expect_same_labels(post_image("resnet-18", frame), want);
  test::expect_same_labels(expect(client().Post("/predictions/resnet-18/1.0", frame, "image/jpeg"), 200),
                           want);
  auto missing_version = expect(client().Post("/predictions/resnet-18/2.0", frame, "image/jpeg"), 404);
  EXPECT_EQ(missing_version["type"], "ModelVersionNotFoundException") << missing_version;

  auto described = describe("resnet-18");
  EXPECT_EQ(described["modelName"], "resnet-18");
  EXPECT_EQ(described["modelVersion"], "1.0");
  EXPECT_EQ(described["modelUrl"], "mobilenetv2");
  EXPECT_TRUE(described["runtime"].is_string());
  EXPECT_EQ(described["batchSize"], 1) << "mobilenetv2 runs batch 1 only";
  EXPECT_EQ(described["maxBatchDelay"], 20);
  EXPECT_EQ(described["minWorkers"], 1);
  EXPECT_EQ(described["maxWorkers"], 1);
  ASSERT_EQ(described["workers"].size(), 1u);
  EXPECT_EQ(described["workers"][0]["status"], "READY");
  EXPECT_EQ(described["jobQueueStatus"], nlohmann::json({{"remainingCapacity", 64}, {"pendingRequests", 0}}));
  EXPECT_EQ(expect(client().Get("/models/resnet-18/all"), 200).size(), 1u);
  bool listed = false;
  auto models = expect(client().Get("/models"), 200)["models"];
  for (const auto& m : models)
    listed = listed || (m["modelName"] == "resnet-18" && m["modelUrl"] == "mobilenetv2");
  EXPECT_TRUE(listed);

  EXPECT_EQ(manage("PUT", "/models/resnet-18?min_worker=3&synchronous=true")["status"],
            "Workers scaled to 3 for model: resnet-18");
  EXPECT_EQ(describe("resnet-18")["workers"].size(), 3u);
  // No worker: refused with the way out in the message, then served again once scaled up.
  manage("PUT", "/models/resnet-18/1.0?min_worker=0");
  auto res = client().Post("/predictions/resnet-18", frame, "image/jpeg");
  auto refused = expect(res, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_NE(refused["message"].get<std::string>().find("PUT /models/resnet-18?min_worker="),
            std::string::npos)
      << refused;
  manage("PUT", "/models/resnet-18?min_worker=1");
  test::expect_same_labels(post_image("resnet-18", frame), want);

  EXPECT_EQ(manage("DELETE", "/models/resnet-18/1.0")["status"], "Model \"resnet-18\" unregistered");
  EXPECT_EQ(post_image("resnet-18", frame, 404)["type"], "ModelNotFoundException");
  EXPECT_EQ(manage("DELETE", "/models/resnet-18", 404)["type"], "ModelNotFoundException");
  // A catalog model unregistered loads again on its next request.
  post_image("mobilenetv2", frame);
  manage("DELETE", "/models/mobilenetv2");
  EXPECT_FALSE(describe("mobilenetv2")["loaded"].get<bool>());
  test::expect_same_labels(post_image("mobilenetv2", frame), want);
}

TEST_F(Serve, BadRequestsGetAStatusAndAMessage) {
  auto jpeg = test::vtest_jpegs(1).at(0);
  const std::string model = "yolo-fastest-body";
  auto garbage = post_image(model, "not an image at all", 400);
  EXPECT_EQ(garbage["code"], 400);
  EXPECT_EQ(garbage["type"], "BadRequestException");
  EXPECT_NE(garbage["message"].get<std::string>().find("not a decodable image"), std::string::npos)
      << garbage;
  auto truncated = post_image(model, jpeg.substr(0, jpeg.size() / 2), 400);
  EXPECT_NE(truncated["message"].get<std::string>().find("truncated"), std::string::npos) << truncated;
  auto unknown = post_image("no-such-model", jpeg, 404);
  EXPECT_EQ(unknown["type"], "ModelNotFoundException");
  EXPECT_NE(unknown["message"].get<std::string>().find("no-such-model"), std::string::npos) << unknown;
  auto bad_base64 = post_json(model, {"@@@@"}, 400);
  EXPECT_NE(bad_base64["message"].get<std::string>().find("image 0"), std::string::npos) << bad_base64;
  auto bad_key = post_json(model, {{"0", test::base64(jpeg)}, {"1", 7}}, 400);
  EXPECT_NE(bad_key["message"].get<std::string>().find("image '1'"), std::string::npos) << bad_key;
  EXPECT_EQ(post_json(model, nlohmann::json::object(), 400)["type"], "BadRequestException");
  auto empty = post_image(model, "", 400);
  EXPECT_NE(empty["message"].get<std::string>().find("no image"), std::string::npos) << empty;

  // Unknown paths are not found, whatever the method, before any token is asked for.
  auto no_route = expect(client().Get("/nothing/here"), 404);
  EXPECT_EQ(no_route["type"], "ResourceNotFoundException");
  EXPECT_EQ(expect(client().Post("/nothing/here", "x", "text/plain"), 404)["type"],
            "ResourceNotFoundException");
  EXPECT_EQ(expect(client().Delete("/models"), 404)["type"], "ResourceNotFoundException");
  // Management changes the server: the token is needed.
  auto anonymous = expect(client().Post("/models?url=yolo-fastest", "", "text/plain"), 401);
  EXPECT_EQ(anonymous["type"], "Unauthorized");
  EXPECT_EQ(expect(client().Delete("/models/yolo-fastest"), 401)["code"], 401);
  EXPECT_EQ(manage("POST", "/models?url=yolo-fastest&batch_size=lots", 400)["type"], "BadRequestException");
  // A number beyond an int was cast anyway (undefined behaviour); now it is refused by name.
  auto huge = manage("POST", "/models?url=yolo-fastest&initial_workers=1e20", 400);
  EXPECT_NE(huge["message"].get<std::string>().find("initial_workers is out of range"), std::string::npos)
      << huge;
  EXPECT_EQ(manage("POST", "/models?url=yolo-fastest&model_name=a/b", 400)["type"], "BadRequestException");
  EXPECT_EQ(manage("POST", "/models?url=mobilenetv2&model_name=yolox-nano", 409)["type"],
            "ConflictStatusException");
  EXPECT_EQ(manage("POST", "/models?url=nothing.mar", 404)["type"], "ModelNotFoundException");
  EXPECT_EQ(manage("PUT", "/models/yolo-fastest?min_worker=2&max_worker=1", 400)["type"],
            "BadRequestException");
}

TEST_F(Serve, AnImageDeclaringTooManyPixelsGets400NamingTheLimitBeforeItIsDecoded) {
  const std::string over = "20000x20000 is over the limit of 40000000 pixels (--max-pixels)";
  for (const auto& bomb : {test::png_declaring(20000, 20000), test::jpeg_declaring(20000, 20000)}) {
    auto raw = post_image("hog", bomb, 400);
    EXPECT_EQ(raw["message"], "the request body: " + over) << raw;
    auto res = client().Post("/predictions/hog", "[\"" + test::base64(bomb) + "\"]", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_EQ(nlohmann::json::parse(res->body)["message"], "image 0: " + over) << res->body;
  }
  // The limit is a setting (sightflow --max-pixels N, before the subcommand).
  server.reset();
  server = std::make_unique<test::WebProcess>(std::vector<std::string>{"--max-pixels", "1000", "serve"},
                                              "--listen", dir, "serve");
  auto jpeg = test::vtest_jpegs(1).at(0);
  EXPECT_EQ(post_image("hog", jpeg, 400)["message"],
            "the request body: 768x576 is over the limit of 1000 pixels (--max-pixels)");
}

TEST_F(Serve, LimitsAnswer413And503) {
  start({"--max-body-mb", "1", "--max-queue", "2"});
  const std::string model = "yolo-fastest-body";
  auto too_big = post_image(model, std::string(3 << 19, 'x'), 413);  // 1.5 MiB
  EXPECT_EQ(too_big["type"], "RequestEntityTooLargeException");
  // A body sent as curl sends --data-binary (application/x-www-form-urlencoded) is an image too, with
  // only --max-body-mb as its limit.
  auto jpegs = test::vtest_jpegs(3);
  ASSERT_GT(jpegs[0].size(), 8u << 10);
  auto form = expect(
      client().Post(("/predictions/" + model).c_str(), jpegs[0], "application/x-www-form-urlencoded"), 200);
  test::expect_same_detections(form, test::direct_answer(model, jpegs[0]));

  // Three images in one request never fit a queue of two: retrying cannot help.
  nlohmann::json three = nlohmann::json::array();
  for (const auto& j : jpegs) three.push_back(test::base64(j));
  auto never = post_json(model, three, 413);
  EXPECT_NE(never["message"].get<std::string>().find("--max-queue"), std::string::npos) << never;

  // Two images held waiting for company (a batch of 8, up to 10 s) fill the queue: one more is refused
  // at once, with a hint when to come back, and the two are still answered.
  manage("POST", "/models?url=yolo-fastest-body&batch_size=8&max_batch_delay=10000");
  nlohmann::json two = {three[0], three[1]};
  nlohmann::json held;
  std::thread first([&] { held = post_json(model, two); });
  auto queued = server->wait_for("/models/" + model, [](const std::string& body) {
    return nlohmann::json::parse(body)[0]["jobQueueStatus"]["pendingRequests"] == 2;
  });
  EXPECT_FALSE(queued.empty()) << "the two images never showed as waiting";
  EXPECT_EQ(nlohmann::json::parse(queued)[0]["jobQueueStatus"]["remainingCapacity"], 0);
  auto res = client().Post(("/predictions/" + model).c_str(), jpegs[2], "image/jpeg");
  auto busy = expect(res, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_EQ(busy["type"], "ServiceUnavailableException");
  EXPECT_NE(busy["message"].get<std::string>().find("busy"), std::string::npos) << busy;
  first.join();
  ASSERT_EQ(held.size(), 2u) << held;
  test::expect_same_detections(held[1], test::direct_answer(model, jpegs[1]));
}

}  // namespace
}  // namespace sf
