// HTTPS both ways with certificates the test makes (openssl CLI, in a temporary folder): the webhook posts
// to an HTTPS receiver it trusts through a CA file and refuses one it cannot verify, saying why; `serve` and
// `run --serve` take --tls-cert/--tls-key, and curl, `sightflow client` and `sightflow top` reach them;
// bad certificate files are refused before anything listens.
#include "http/tls.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <mutex>
#include <thread>

#include "http/listen.hpp"
#include "sink/webhook_sink.hpp"
#include "test_certificate.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

using test::Certificate;
using test::make_certificate;

Result result_for(int64_t frame) {
  Result r;
  r.stream = "cam";
  r.algo = "hog";
  r.frame = frame;
  r.ts = 1.7e9 + double(frame);
  return r;
}

// An HTTPS endpoint recording the frames POSTed to /hook.
class TlsReceiver {
 public:
  TlsReceiver(const Certificate& c, int port) : server_(make_http_server({c.cert, c.key})) {
    server_->Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      frames_.push_back(nlohmann::json::parse(req.body).at("frame").get<int64_t>());
      res.status = 200;
    });
    listen_in_background(*server_, "127.0.0.1", port, thread_);
  }
  ~TlsReceiver() {
    server_->stop();
    thread_.join();
  }
  std::vector<int64_t> frames() {
    std::lock_guard lock(mutex_);
    return frames_;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<int64_t> frames_;
};

WebhookOptions webhook_to(int port, const test::TempDir& dir) {
  WebhookOptions o;
  o.url = "https://127.0.0.1:" + std::to_string(port) + "/hook";
  o.dead_letter_path = (dir / "dead.jsonl").string();
  o.initial_backoff_s = 0.05;
  o.max_backoff_s = 0.1;
  o.max_retry_seconds = 0.3;  // a refused certificate stays refused: give up soon
  return o;
}

TEST(TlsWebhook, DeliversToAnHttpsReceiverItTrustsThroughTheCaFile) {
  test::TempDir dir;
  auto cert = make_certificate(dir, "receiver", "IP:127.0.0.1,DNS:localhost");
  int port = test::free_tcp_port();
  TlsReceiver receiver(cert, port);
  auto options = webhook_to(port, dir);
  options.ca_file = cert.cert;
  auto sink = make_webhook_sink(options);
  for (int64_t i = 0; i < 5; ++i) sink->write(result_for(i));
  sink->close();
  EXPECT_EQ(receiver.frames(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(test::read_jsonl(dir / "dead.jsonl").empty());
}

TEST(TlsWebhook, RefusesACertificateItCannotVerifyAndSaysWhy) {
  test::TempDir dir;
  auto cert = make_certificate(dir, "receiver", "IP:127.0.0.1");
  auto elsewhere = make_certificate(dir, "elsewhere", "DNS:elsewhere.example");
  struct Case {
    Certificate served;
    std::string ca_file;
    std::string reason;
  };
  for (const auto& c : {Case{cert, "", "self-signed certificate"},
                        Case{elsewhere, elsewhere.cert, "does not name this host"}}) {
    std::filesystem::remove(dir / "dead.jsonl");
    int port = test::free_tcp_port();
    TlsReceiver receiver(c.served, port);
    auto options = webhook_to(port, dir);
    options.ca_file = c.ca_file;
    auto sink = make_webhook_sink(options);
    sink->write(result_for(7));
    sink->close();
    EXPECT_TRUE(receiver.frames().empty()) << "verification is on by default";
    auto dead = test::read_jsonl(dir / "dead.jsonl");
    ASSERT_EQ(dead.size(), 1u);
    auto error = dead[0]["error"].get<std::string>();
    EXPECT_NE(error.find("TLS certificate was refused"), std::string::npos) << error;
    EXPECT_NE(error.find(c.reason), std::string::npos) << error;
    if (c.ca_file.empty()) {
      EXPECT_NE(error.find("ca_file"), std::string::npos) << error;
    }
  }
}

TEST(TlsWebhook, AnUnreadableCaFileFailsAtTheStart) {
  test::TempDir dir;
  auto options = webhook_to(test::free_tcp_port(), dir);
  options.ca_file = (dir / "missing.pem").string();
  try {
    make_webhook_sink(options);
    ADD_FAILURE() << "accepted a missing CA file";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos) << e.what();
  }
}

// A `sightflow` process serving HTTPS on a free port; the constructor returns once /api/streams answers
// over TLS.
class TlsProcess {
 public:
  TlsProcess(std::vector<std::string> args, const std::string& listen_flag, const Certificate& c,
             const test::TempDir& dir)
      : port_(test::free_tcp_port()), log_((dir / "server.log").string()), ca_(c.cert) {
    args.insert(args.begin(), test::sightflow_bin());
    for (const auto& a : {listen_flag, "127.0.0.1:" + std::to_string(port_), std::string("--tls-cert"),
                          c.cert, std::string("--tls-key"), c.key})
      args.push_back(a);
    process_ = std::make_unique<test::ChildProcess>(args, "/dev/null", log_);
    httplib::SSLClient ping("127.0.0.1", port_);
    ping.set_ca_cert_path(ca_);
    for (int i = 0; i < 600 && process_->running(); ++i) {
      if (auto res = ping.Get("/api/streams"); res && res->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("no answer over https: " + test::read_file(log_));
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return test::read_file(log_); }

 private:
  int port_;
  std::string log_, ca_;
  std::unique_ptr<test::ChildProcess> process_;
};

TEST(TlsServe, CurlAndTheClientReachServeOverHttpsTrustingItsCertificate) {
  test::TempDir dir;
  auto cert = make_certificate(dir, "server", "IP:127.0.0.1,DNS:localhost");
  TlsProcess server({"serve"}, "--listen", cert, dir);

  std::string output;
  ASSERT_EQ(test::run_command({"curl", "-sS", "--cacert", cert.cert, server.url() + "/ping"}, &output), 0)
      << output;
  EXPECT_NE(output.find("Healthy"), std::string::npos) << output;
  EXPECT_EQ(test::run_command({"curl", "-sS", server.url() + "/ping"}, &output), 60)
      << "curl refuses the self-signed certificate: " << output;
  EXPECT_NE(
      test::run_command(
          {"curl", "-sS", "http://127.0.0.1:" + server.url().substr(server.url().rfind(':') + 1) + "/ping"},
          &output),
      0)
      << "plain http is not served on the https port: " << output;

  ASSERT_EQ(test::run_command({test::sightflow_bin(), "client", "--url", server.url(), "--ca-file", cert.cert,
                               "--model", "yolo-fastest-body", "--max-frames", "4"},
                              &output),
            0)
      << output << server.log();
  size_t results = 0;
  for (size_t at = output.find("{\"frame\":"); at != std::string::npos;
       at = output.find("{\"frame\":", at + 1))
    ++results;
  EXPECT_EQ(results, 4u) << output;

  EXPECT_EQ(test::run_command({test::sightflow_bin(), "client", "--url", server.url(), "--model",
                               "yolo-fastest-body", "--max-frames", "4"},
                              &output),
            2)
      << output;
  EXPECT_NE(output.find("self-signed certificate"), std::string::npos) << output;
  EXPECT_NE(output.find("--ca-file"), std::string::npos) << output;
}

TEST(TlsServe, RunServeTakesTheSameFlagsAndTopReadsIt) {
  test::TempDir dir;
  auto cert = make_certificate(dir, "run", "IP:127.0.0.1");
  TlsProcess run({"run", "--source", test::vtest_path(), "--detector", "none", "--max-frames", "5",
                  "--no-progress", "--out", (dir / "r.jsonl").string()},
                 "--serve", cert, dir);
  std::string output;
  ASSERT_EQ(
      test::run_command({test::sightflow_bin(), "top", "--url", run.url(), "--ca-file", cert.cert, "--once"},
                        &output),
      0)
      << output << run.log();
  EXPECT_NE(output.find("vtest"), std::string::npos) << output;
  EXPECT_NE(run.log().find("dashboard on https://127.0.0.1:"), std::string::npos) << run.log();
}

TEST(TlsServe, BadCertificateFilesAreRefusedBeforeListening) {
  test::TempDir dir;
  auto cert = make_certificate(dir, "one", "IP:127.0.0.1");
  auto other = make_certificate(dir, "other", "IP:127.0.0.1");
  auto serve = [&](std::vector<std::string> tls_args, std::string* output) {
    std::vector<std::string> argv = {test::sightflow_bin(), "serve", "--listen",
                                     "127.0.0.1:" + std::to_string(test::free_tcp_port())};
    argv.insert(argv.end(), tls_args.begin(), tls_args.end());
    return test::run_command(argv, output, 60);
  };
  std::string output;
  EXPECT_EQ(serve({"--tls-cert", cert.cert}, &output), 64) << "a usage error: " << output;
  EXPECT_NE(output.find("--tls-key"), std::string::npos) << output;

  EXPECT_EQ(serve({"--tls-cert", cert.cert, "--tls-key", other.key}, &output), 1) << output;
  EXPECT_NE(output.find("key values mismatch"), std::string::npos) << output;

  std::ofstream((dir / "not.pem").string()) << "not a certificate\n";
  EXPECT_EQ(serve({"--tls-cert", (dir / "not.pem").string(), "--tls-key", cert.key}, &output), 1) << output;
  EXPECT_NE(output.find("not.pem"), std::string::npos) << output;
}

}  // namespace
}  // namespace sf
