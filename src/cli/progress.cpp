#include "cli/progress.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace sf::cli {

ProgressReporter::ProgressReporter(Pipeline& pipeline, bool bar, double stats_interval_s)
    : pipeline_(pipeline), bar_(bar), stats_interval_s_(stats_interval_s), start_s_(steady_now()) {
  int64_t total = 0;
  for (const auto& s : pipeline_.streams()) {
    if (s.expected_frames < 0) {
      total = -1;
      break;
    }
    total += s.expected_frames;
  }
  total_frames_ = total > 0 ? total : -1;
  if (total_frames_ < 0) bar_ = false;
  if (bar_ || stats_interval_s_ > 0) thread_ = std::thread([this] { loop(); });
}

ProgressReporter::~ProgressReporter() { finish(); }

void ProgressReporter::finish(bool completed) {
  {
    std::lock_guard lock(mutex_);
    if (done_) return;
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!bar_) return;
  if (completed) {
    int64_t read = 0;
    for (const auto& [name, s] : pipeline_.metrics().streams(steady_now())) read += s.frames_read;
    if (read > 0) total_frames_ = read;
  }
  draw_bar(steady_now() - start_s_);
  std::fprintf(stderr, "\n");
}

void ProgressReporter::loop() {
  double start = start_s_, last_stats = start;
  std::unique_lock lock(mutex_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(bar_ ? 250 : 500), [&] { return done_; })) {
    double now = steady_now();
    if (bar_) draw_bar(now - start);
    if (stats_interval_s_ > 0 && now - last_stats >= stats_interval_s_) {
      last_stats = now;
      if (bar_) std::fprintf(stderr, "\n");
      std::fprintf(stderr, "%s", format_stats_line(pipeline_.metrics()).c_str());
    }
  }
}

void ProgressReporter::draw_bar(double elapsed_s) {
  int64_t read = 0;
  for (const auto& [name, s] : pipeline_.metrics().streams(steady_now())) read += s.frames_read;
  double fraction = std::min(1.0, double(read) / double(total_frames_));
  double fps = elapsed_s > 0 ? double(read) / elapsed_s : 0;
  double eta = fps > 0 ? double(total_frames_ - read) / fps : 0;
  std::fprintf(stderr, "\r[%s] %3.0f%% %lld/%lld frames  %.1f fps  ETA %02d:%02d ",
               progress_bar(fraction).c_str(), fraction * 100, static_cast<long long>(read),
               static_cast<long long>(total_frames_), fps, int(eta) / 60, int(eta) % 60);
  std::fflush(stderr);
}

std::string progress_bar(double fraction, int width) {
  const int filled = std::clamp(int(fraction * width), 0, width);
  return std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.');
}

std::string format_stats_line(Metrics& metrics) {
  double now = steady_now();
  auto algos = metrics.algorithms(now);
  std::ostringstream out;
  char line[256];
  for (const auto& [name, s] : metrics.streams(now)) {
    std::snprintf(line, sizeof line, "[%s] in %.1f fps, %lld frames", name.c_str(), s.in_fps,
                  static_cast<long long>(s.frames_read));
    out << line;
    for (const auto& [key, a] : algos) {
      if (key.first != name) continue;
      std::snprintf(line, sizeof line,
                    " | %s: out %.1f fps, %lld runs, %lld dropped, model %.1f ms, latency %.0f ms",
                    key.second.c_str(), a.out_fps, static_cast<long long>(a.runs),
                    static_cast<long long>(a.runs_dropped), a.model.ewma() * 1e3, a.total.ewma() * 1e3);
      out << line;
    }
    out << "\n";
  }
  return out.str();
}

std::string format_summary(Metrics& metrics, double wall_seconds) {
  double now = steady_now();
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "summary: %.2f s wall time\n", wall_seconds);
  out << line;
  auto algos = metrics.algorithms(now);
  for (const auto& [name, s] : metrics.streams(now)) {
    std::snprintf(line, sizeof line,
                  "  stream %s: %lld frames read (%.1f fps), %lld skipped by fps limit, %lld reconnects, "
                  "read %.2f ms/frame\n",
                  name.c_str(), static_cast<long long>(s.frames_read),
                  wall_seconds > 0 ? double(s.frames_read) / wall_seconds : 0.0,
                  static_cast<long long>(s.frames_skipped), static_cast<long long>(s.reconnects),
                  s.read.mean() * 1e3);
    out << line;
    for (const auto& [key, a] : algos) {
      if (key.first != name) continue;
      std::snprintf(line, sizeof line,
                    "    %s: %lld runs (%.2f runs/s), %lld dropped, %s%lld detections; mean ms: resize %.2f, "
                    "model %.2f, post %.2f, sink %.2f, total latency %.1f\n",
                    key.second.c_str(), static_cast<long long>(a.runs),
                    wall_seconds > 0 ? double(a.runs) / wall_seconds : 0.0,
                    static_cast<long long>(a.runs_dropped),
                    a.runs_failed ? (std::to_string(a.runs_failed) + " failed, ").c_str() : "",
                    static_cast<long long>(a.detections), a.resize.mean() * 1e3, a.model.mean() * 1e3,
                    a.post.mean() * 1e3, a.sink.mean() * 1e3, a.total.mean() * 1e3);
      out << line;
    }
  }
  // What the sinks counted themselves (results stored, webhook deliveries): their own sentences.
  struct SummaryLines : CounterReport {
    std::ostringstream& out;
    explicit SummaryLines(std::ostringstream& o) : out(o) {}
    void counter(const CounterName&, double) override {}
    void gauge(const CounterName&, double) override {}
    void histogram(const CounterName&, const StageStat&) override {}
    void summary(const std::string& line) override { out << "  " << line << "\n"; }
  } lines(out);
  metrics.report_counters(lines);
  return out.str();
}

}  // namespace sf::cli
