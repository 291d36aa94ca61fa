// TorchServe's users, unchanged, against `sightflow serve`: a camera client written like TorchServe's
// near-real-time video example (Python, requests, OpenCV; tests/torchserve_video_client.py) in both of its
// modes, and TorchServe's documented curl commands run with the real curl. The model is registered as
// resnet-18, the example's name, over the catalog's classifier.
#include <gtest/gtest.h>

#include <fstream>

#include "inference_answers.hpp"
#include "test_support.hpp"
#include "web_process.hpp"

namespace sf {
namespace {

const std::string kToken = "torchserve-test-token";
const std::string kPython = "/usr/bin/python3";  // Debian's, which sees python3-requests and python3-opencv

class TorchServeClient : public ::testing::Test {
 protected:
  void SetUp() override {
    server = std::make_unique<test::WebProcess>(
        std::vector<std::string>{"serve", "--token", kToken, "--preload", "resnet-18=mobilenetv2"},
        "--listen", dir, "serve");
  }
  std::string url() const { return server->url(); }

  // Runs curl; returns the HTTP status and puts the body in `body` (-w adds the status as a last line).
  int curl(std::vector<std::string> args, std::string* body) const {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string output;
    int exit = test::run_command(argv, &output);
    EXPECT_EQ(exit, 0) << output;
    auto last = output.find_last_of('\n');
    if (last == std::string::npos) return -1;
    *body = output.substr(0, last);
    return std::atoi(output.c_str() + last + 1);
  }
  nlohmann::json curl_json(std::vector<std::string> args, int status) const {
    std::string body;
    EXPECT_EQ(curl(std::move(args), &body), status) << body;
    auto json = nlohmann::json::parse(body, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << body;
    return json;
  }
  std::string bearer() const { return "Authorization: Bearer " + kToken; }

  test::TempDir dir;
  std::unique_ptr<test::WebProcess> server;
};

// The client's answers: one per frame, in frame order, each the model's own answer for that frame, best
// label first.
void expect_client_results(const std::filesystem::path& results, const std::vector<nlohmann::json>& want) {
  auto lines = test::read_jsonl(results);
  ASSERT_EQ(lines.size(), want.size()) << test::read_file(results);
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    EXPECT_EQ(lines[i]["frame"], i);
    EXPECT_EQ(lines[i]["status"], 200);
    test::expect_same_labels(lines[i]["result"], want[i]);
  }
  // The order the server wrote (read again without sorting the keys): best first.
  std::ifstream in(results);
  std::string line;
  std::getline(in, line);
  auto first = nlohmann::ordered_json::parse(line)["result"];
  double previous = 2;
  for (const auto& [label, probability] : first.items()) {
    EXPECT_LE(probability.get<double>(), previous) << first;
    previous = probability.get<double>();
  }
}

TEST_F(TorchServeClient, TheNearRealTimeVideoExampleClientWorksInBothModes) {
  std::string check;
  if (test::run_command({kPython, "-c", "import requests, cv2"}, &check) != 0)
    GTEST_SKIP() << "Debian's python3-requests and python3-opencv are needed (scripts/install-deps.sh): "
                 << check;
  const int frames = 40;
  auto jpegs = test::vtest_jpegs_as_python_encodes(frames);
  ASSERT_EQ(jpegs.size(), size_t(frames));
  auto want = test::direct_answers("mobilenetv2", jpegs);
  struct Mode {
    bool client_batching;
    int batch_size;
  };
  for (Mode mode : {Mode{false, 4}, Mode{true, 4}, Mode{true, 10}, Mode{false, 10}}) {
    std::string name =
        (mode.client_batching ? "client-batching-" : "server-batching-") + std::to_string(mode.batch_size);
    SCOPED_TRACE(name);
    auto results = dir / (name + ".jsonl");
    std::vector<std::string> argv = {
        kPython,        std::string(SIGHTFLOW_SOURCE_DIR) + "/tests/torchserve_video_client.py",
        "--url",        url(),
        "--model",      "resnet-18",
        "--input",      test::vtest_path(),
        "--batch_size", std::to_string(mode.batch_size),
        "--max-frames", std::to_string(frames),
        "--results",    results.string()};
    if (mode.client_batching) argv.push_back("--client-batching");
    std::string output;
    ASSERT_EQ(test::run_command(argv, &output), 0) << output << "\nserver log:\n" << server->log();
    std::string fps_line = "With Batch Size " + std::to_string(mode.batch_size) + ", FPS at frame number ";
    EXPECT_NE(output.find(fps_line + "20 is "), std::string::npos) << output;
    EXPECT_NE(output.find(fps_line + "40 is "), std::string::npos) << output;
    EXPECT_NE(output.find("Sent 40 frames, 0 failed"), std::string::npos) << output;
    expect_client_results(results, want);
  }
}

TEST_F(TorchServeClient, TheDocumentedCurlCommandsWork) {
  // A camera frame of about 70 KB, like the documentation's kitten: well over the 8 KiB that cpp-httplib
  // allows a form body.
  auto kitten = test::vtest_jpegs_as_python_encodes(1).at(0);
  ASSERT_GT(kitten.size(), 50u << 10);
  auto kitten_path = (dir / "kitten.jpg").string();
  std::ofstream(kitten_path, std::ios::binary) << kitten;
  auto want = test::direct_answer("mobilenetv2", kitten);
  const std::string predictions = url() + "/predictions/resnet-18";

  EXPECT_EQ(curl_json({url() + "/ping"}, 200)["status"], "Healthy");
  test::expect_same_labels(curl_json({predictions, "-T", kitten_path}, 200), want);
  test::expect_same_labels(curl_json({predictions + "/1.0", "-T", kitten_path}, 200), want);
  test::expect_same_labels(curl_json({"-X", "POST", "--data-binary", "@" + kitten_path, predictions}, 200),
                           want);
  test::expect_same_labels(curl_json({predictions, "-F", "data=@" + kitten_path}, 200), want);
  // A POST without a body is answered at once, saying what is missing.
  auto bare = curl_json({"-X", "POST", predictions}, 400);
  EXPECT_NE(bare["message"].get<std::string>().find("no image"), std::string::npos) << bare;

  // The management API, with the server's token (TorchServe's token authorization uses the same header).
  auto registered =
      curl_json({"-X", "POST", "-H", bearer(),
                 url() + "/models?url=mobilenetv2.mar&model_name=squeezenet1_1&initial_workers=1"
                         "&synchronous=true"},
                200);
  EXPECT_EQ(registered["status"], "Model \"squeezenet1_1\" Version: 1.0 registered with 1 initial workers");
  EXPECT_EQ(
      curl_json({"-X", "PUT", "-H", bearer(), url() + "/models/squeezenet1_1?min_worker=3"}, 200)["status"],
      "Workers scaled to 3 for model: squeezenet1_1");
  auto described = curl_json({url() + "/models/squeezenet1_1"}, 200).at(0);
  for (const char* field : {"modelName", "modelVersion", "modelUrl", "runtime", "minWorkers", "maxWorkers",
                            "batchSize", "maxBatchDelay", "workers", "jobQueueStatus"})
    EXPECT_TRUE(described.contains(field)) << field << " missing: " << described;
  EXPECT_EQ(described["workers"].size(), 3u);
  auto models = curl_json({url() + "/models"}, 200)["models"];
  std::set<std::string> names;
  for (const auto& m : models) names.insert(m["modelName"].get<std::string>());
  EXPECT_TRUE(names.count("resnet-18") && names.count("squeezenet1_1")) << models;
  EXPECT_EQ(curl_json({"-X", "DELETE", "-H", bearer(), url() + "/models/squeezenet1_1/1.0"}, 200)["status"],
            "Model \"squeezenet1_1\" unregistered");
  EXPECT_EQ(curl_json({url() + "/predictions/squeezenet1_1", "-T", kitten_path}, 404)["type"],
            "ModelNotFoundException");
  // Without the token: refused; on a path that does not exist: not found, before any token is asked for.
  EXPECT_EQ(curl_json({"-X", "DELETE", url() + "/models/resnet-18"}, 401)["type"], "Unauthorized");
  EXPECT_EQ(curl_json({"-X", "POST", url() + "/no/such/route"}, 404)["type"], "ResourceNotFoundException");
}

}  // namespace
}  // namespace sf
