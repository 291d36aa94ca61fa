// `sightflow client` against `sightflow serve`, as separate processes over loopback: FPS lines and one
// result per frame, in order, with server-side and client-side batching; a client with no server gets a
// clear error.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "test_support.hpp"

namespace sf {
namespace {

class ServeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    port = test::free_tcp_port();
    server = std::make_unique<test::ChildProcess>(
        std::vector<std::string>{test::sightflow_bin(), "serve", "--listen",
                                 "127.0.0.1:" + std::to_string(port)},
        "/dev/null", (dir / "serve.log").string());
    // Polled until it answers or exits; two minutes only catch a hang (a loaded machine, or ASan, may take
    // seconds to start it).
    httplib::Client ping("127.0.0.1", port);
    for (int i = 0; i < 6000 && server->running(); ++i) {
      if (auto res = ping.Get("/ping"); res && res->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "serve did not answer /ping: " << test::read_file(dir / "serve.log");
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  // The client's JSON result lines, by frame.
  static std::vector<nlohmann::json> result_lines(const std::string& output) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("frame")) lines.push_back(j);
    }
    return lines;
  }

  test::TempDir dir;
  int port = 0;
  std::unique_ptr<test::ChildProcess> server;
};

TEST_F(ServeCli, ClientPrintsFpsLinesAndOneResultPerFrame) {
  for (bool client_batching : {false, true}) {
    std::vector<std::string> argv = {
        test::sightflow_bin(), "client",       "--url", url(),          "--model",
        "yolo-fastest-body",   "--max-frames", "40",    "--batch-size", "4"};
    if (client_batching) argv.push_back("--client-batching");
    std::string output;
    ASSERT_EQ(test::run_command(argv, &output), 0) << output;
    EXPECT_NE(output.find("With batch size 4, FPS at frame 20 is "), std::string::npos) << output;
    EXPECT_NE(output.find("With batch size 4, FPS at frame 40 is "), std::string::npos) << output;
    auto lines = result_lines(output);
    ASSERT_EQ(lines.size(), 40u) << output;
    size_t people = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i]["frame"], i);
      ASSERT_TRUE(lines[i]["result"].is_array()) << lines[i];
      people += lines[i]["result"].size();
      for (const auto& d : lines[i]["result"]) EXPECT_EQ(d["label"], "person");
    }
    EXPECT_GT(people, 40u * 3) << "vtest.avi shows several people in every frame";
  }
}

TEST_F(ServeCli, ClientWithoutAServerSaysSo) {
  std::string output;
  int nobody = test::free_tcp_port();
  EXPECT_EQ(test::run_command(
                {test::sightflow_bin(), "client", "--url", "http://127.0.0.1:" + std::to_string(nobody),
                 "--model", "yolo-fastest-body", "--max-frames", "5"},
                &output),
            2);
  EXPECT_NE(output.find("cannot reach"), std::string::npos) << output;
  EXPECT_EQ(test::run_command({test::sightflow_bin(), "client", "--url", url(), "--model", "no-such-model",
                               "--max-frames", "5"},
                              &output),
            1);
  EXPECT_NE(output.find("Model not found: no-such-model"), std::string::npos) << output;
}

}  // namespace
}  // namespace sf
