// The Prometheus side of a process without a server: a pipeline's families gathered across pipelines
// and written by prometheus-cpp (checked by promtool), and what every role's registry adds itself:
// sightflow_build_info and the process_* metrics, read against what the test does to its own process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <opencv2/core/version.hpp>
#include <regex>
#include <thread>

#include "pipeline/metrics_registry.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "sink/webhook_sink.hpp"
#include "store/store_commit_stats.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

const double kTestsStarted =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

// The value of the one sample `name` (no labels) in an exposition; NaN when absent.
double sample(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? NAN : std::stod(text.substr(at + name.size() + 2));
}

TEST(Prometheus, PipelinesShareFamiliesAndTheTextPassesPromtool) {
  Metrics a, b;
  double now = steady_now();
  for (int i = 0; i < 5; ++i) a.frame_read("cam \"one\"\\", 0.002, now + i * 0.1);
  b.frame_read("cam2", 0.004, now);
  a.run_done("cam \"one\"\\", "hog", 0.001, 0.003, 0.0001, 0.0002, 0.01, 3, now);
  a.run_done("cam \"one\"\\", "hog", 0.001, 0.003, 0.0001, 0.0002, 0.01, 2, now);
  a.run_done("cam \"one\"\\", "hog", 0.001, 0.2, 0.0001, 0.0002, 0.3, 4, now);
  b.run_done("cam2", "yolox-nano", 0.001, 0.05, 0.0001, 0.0002, 0.06, 1, now);
  // Sinks count for themselves: the store's writer and a webhook's deliveries, reported through a.
  auto store = std::make_shared<StoreCommitStats>();
  store->add(3, 0.004);
  a.add_counter_source(store);
  struct Webhook : CounterSource {
    void report(CounterReport& out) const override {
      WebhookStats w;
      w.delivered = 7;
      w.dead_lettered = 1;
      w.queued = 2;
      report_webhook_stats(w, out);
    }
  };
  a.add_counter_source(std::make_shared<Webhook>());
  MetricFamilies families;
  add_pipeline_metrics(families, a, {{"pipeline", "a"}});
  add_pipeline_metrics(families, b, {{"pipeline", "b"}});
  auto out = families.text();

  EXPECT_EQ(occurrences(out, "# TYPE sightflow_frames_read_total counter\n"), 1u) << out;
  EXPECT_EQ(occurrences(out, "# TYPE sightflow_stage_seconds histogram\n"), 1u);
  // Label values are escaped (quote, backslash) by the serializer.
  const std::string cam = "stream=\"cam \\\"one\\\"\\\\\"";
  EXPECT_TRUE(has_line(out, "sightflow_frames_read_total{" + cam + "} 5")) << out;
  EXPECT_TRUE(has_line(out, "sightflow_frames_read_total{stream=\"cam2\"} 1"));
  // Cumulative buckets: two model passes of 3 ms and one of 200 ms.
  std::string model = "sightflow_stage_seconds_bucket{" + cam + ",algo=\"hog\",stage=\"model\",";
  EXPECT_TRUE(has_line(out, model + "le=\"0.001\"} 0")) << out;
  EXPECT_TRUE(has_line(out, model + "le=\"0.005\"} 2"));
  EXPECT_TRUE(has_line(out, model + "le=\"0.25\"} 3"));
  EXPECT_TRUE(has_line(out, model + "le=\"+Inf\"} 3"));
  // The end-to-end time spans the stages, so it is a family of its own: a sum over `stage` stays a sum of
  // parts.
  EXPECT_EQ(out.find("stage=\"total\""), std::string::npos) << out;
  EXPECT_TRUE(has_line(out, "sightflow_result_latency_seconds_count{" + cam + ",algo=\"hog\"} 3"));
  EXPECT_TRUE(
      has_line(out, "sightflow_result_latency_seconds_bucket{" + cam + ",algo=\"hog\",le=\"0.25\"} 2"));
  EXPECT_TRUE(has_line(out, "sightflow_detections_total{" + cam + ",algo=\"hog\"} 9"));
  EXPECT_TRUE(has_line(out, "sightflow_results_stored_total{pipeline=\"a\"} 3"));
  EXPECT_TRUE(has_line(out, "sightflow_webhook_delivered_total{pipeline=\"a\"} 7"));
  EXPECT_TRUE(has_line(out, "sightflow_webhook_queued{pipeline=\"a\"} 2"));
  EXPECT_EQ(out.find("sightflow_webhook_delivered_total{pipeline=\"b\"}"), std::string::npos);
  // Rates are Prometheus's to compute from the counters.
  EXPECT_EQ(out.find("_fps"), std::string::npos);
  // All samples of a family follow its TYPE line: cam2's frames come right after cam "one"'s.
  auto first = out.find("sightflow_frames_read_total{");
  EXPECT_EQ(out.find("sightflow_frames_read_total{", first + 1), out.find("\n", first) + 1) << out;
  EXPECT_EQ(test::promtool_problems(out), "");
}

TEST(Prometheus, EveryRegistryTellsTheBuildAndSourcesComeAndGo) {
  MetricsRegistry registry;
  auto text = registry.text();
  const std::regex build(R"re(\nsightflow_build_info\{ffmpeg="([^"]+)",opencv="([^"]+)",)re"
                         R"re(revision="([^"]+)",version="([^"]+)"\} 1\n)re");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, build)) << text;
  EXPECT_EQ(m[4], SIGHTFLOW_PROJECT_VERSION);
  EXPECT_TRUE(std::regex_match(m[3].str(), std::regex("[0-9a-f]{12}|unknown"))) << m[3];
  EXPECT_EQ(m[2], CV_VERSION);
  EXPECT_TRUE(std::regex_match(m[1].str(), std::regex(R"(\d.*)"))) << m[1];

  // A source is asked at each scrape while its owner keeps it, and forgotten once the owner lets go.
  int asked = 0;
  auto source = std::make_shared<FamilySource>([&](MetricFamilies& out) {
    ++asked;
    out.gauge("sightflow_test_value", "A value.", {{"stream", "a\nb"}}, 2);
  });
  registry.add(source);
  text = registry.text();
  EXPECT_TRUE(has_line(text, "sightflow_test_value{stream=\"a\\nb\"} 2")) << text;
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(test::promtool_problems(text), "");
  source.reset();
  EXPECT_EQ(registry.text().find("sightflow_test_value"), std::string::npos);

  // A source that cannot answer fails the scrape rather than leaving its series out.
  auto failing =
      std::make_shared<FamilySource>([](MetricFamilies&) { throw std::runtime_error("redis down"); });
  registry.add(failing);
  EXPECT_THROW(registry.text(), std::runtime_error);
}

TEST(Prometheus, ProcessMetricsFollowWhatTheProcessDoes) {
  MetricsRegistry registry;
  auto before = registry.text();
  for (const char* name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
        "process_open_fds", "process_max_fds", "process_start_time_seconds", "process_threads"})
    EXPECT_FALSE(std::isnan(sample(before, name))) << name << " missing:\n" << before;

  // Three more descriptors, two more threads, a quarter second of CPU.
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(open("/dev/null", O_RDONLY));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&] {
      while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
  double cpu_start = process_cpu_seconds();
  volatile double sink = 0;
  while (process_cpu_seconds() < cpu_start + 0.25) sink = sink + std::sqrt(double(sink) + 1);
  auto after = registry.text();
  stop = true;
  for (auto& t : threads) t.join();
  for (int fd : fds) close(fd);

  EXPECT_EQ(sample(after, "process_open_fds") - sample(before, "process_open_fds"), 3) << after;
  EXPECT_EQ(sample(after, "process_threads") - sample(before, "process_threads"), 2);
  EXPECT_GE(sample(after, "process_cpu_seconds_total") - sample(before, "process_cpu_seconds_total"), 0.2);
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(sample(after, "process_max_fds"), double(limit.rlim_cur));
  double rss = sample(after, "process_resident_memory_bytes");
  EXPECT_GT(rss, 1 << 20);
  EXPECT_LT(rss, sample(after, "process_virtual_memory_bytes"));
  // Started just before this file's statics (the kernel's boot time has whole seconds).
  double started = sample(after, "process_start_time_seconds");
  EXPECT_LE(started, kTestsStarted + 1);
  EXPECT_GT(started, kTestsStarted - 5);
  EXPECT_EQ(test::promtool_problems(after), "");
}

}  // namespace
}  // namespace sf
