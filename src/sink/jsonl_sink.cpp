#include <cstdio>
#include <functional>
#include <stdexcept>

#include "common/line_file.hpp"
#include "sightflow/sink.hpp"

namespace sf {
namespace {

// A text file with what `format` makes of each result (nothing: no write), written in whole lines: a run
// killed at any moment leaves no torn line (common/line_file). Offline, lines wait until about a stdio
// buffer's worth (4 KiB) is ready, then go out together, cut at a result's end; real time, each result
// goes out at once.
class TextLinesSink : public Sink {
 public:
  using Format = std::function<std::string(const Result&)>;
  TextLinesSink(const std::string& path, const std::string& what, bool flush_each_line, Format format)
      : file_(path, LineFile::Mode::Truncate, what), flush_(flush_each_line), format_(std::move(format)) {}
  ~TextLinesSink() override {
    try {
      close();
    } catch (const std::exception&) {
    }  // close() reported it already when the pipeline closed the sink
  }

  void write(const Result& result) override {
    pending_ += format_(result);
    if (!pending_.empty() && (flush_ || pending_.size() >= kBatchBytes)) write_pending();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    if (!pending_.empty()) write_pending();
    file_.close();
  }

 private:
  static constexpr size_t kBatchBytes = 4096;

  void write_pending() {
    std::string lines = std::move(pending_);
    pending_.clear();
    file_.write(lines);
  }

  LineFile file_;
  bool flush_;
  Format format_;
  std::string pending_;
  bool closed_ = false;
};

}  // namespace

std::shared_ptr<Sink> make_jsonl_sink(const std::string& path, bool flush_each_line) {
  return std::make_shared<TextLinesSink>(path, "results file", flush_each_line,
                                         [](const Result& r) { return to_json(r).dump() + "\n"; });
}

std::shared_ptr<Sink> make_events_sink(const std::string& path, bool flush_each_line) {
  return std::make_shared<TextLinesSink>(path, "events file", flush_each_line, [](const Result& r) {
    std::string lines;
    for (const auto& e : r.events) lines += to_json(e, r).dump() + "\n";
    return lines;
  });
}

std::shared_ptr<Sink> make_mot_sink(const std::string& path) {
  return std::make_shared<TextLinesSink>(path, "tracks file", false, [](const Result& r) {
    std::string lines;
    char line[160];
    for (const auto& d : r.detections) {
      if (!d.track_id) continue;
      std::snprintf(line, sizeof line, "%lld,%lld,%.2f,%.2f,%.2f,%.2f,%.4f,-1,-1,-1\n",
                    static_cast<long long>(r.frame + 1), static_cast<long long>(*d.track_id), d.box.x,
                    d.box.y, d.box.width, d.box.height, d.score);
      lines += line;
    }
    return lines;
  });
}

}  // namespace sf
