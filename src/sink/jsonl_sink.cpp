#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>

#include "sightflow/sink.hpp"

namespace sf {
namespace {

// A text file with what `format` makes of each result (nothing: no write).
class TextLinesSink : public Sink {
 public:
  using Format = std::function<std::string(const Result&)>;
  TextLinesSink(const std::string& path, bool flush_each_line, Format format)
      : path_(path), flush_(flush_each_line), format_(std::move(format)) {
    if (path == "-") {
      file_ = stdout;
    } else {
      file_ = std::fopen(path.c_str(), "w");
      if (!file_)
        throw std::runtime_error("cannot create results file " + path + ": " + std::strerror(errno));
    }
  }
  ~TextLinesSink() override { close(); }

  void write(const Result& result) override {
    std::string line = format_(result);
    if (line.empty()) return;
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
      throw std::runtime_error("cannot write results file " + path_ + ": " + std::strerror(errno));
    }
    if (flush_) std::fflush(file_);
  }

  void close() override {
    if (!file_) return;
    if (file_ == stdout) {
      std::fflush(file_);
    } else {
      std::fclose(file_);
    }
    file_ = nullptr;
  }

 private:
  std::string path_;
  bool flush_;
  Format format_;
  std::FILE* file_ = nullptr;
};

}  // namespace

std::shared_ptr<Sink> make_jsonl_sink(const std::string& path, bool flush_each_line) {
  return std::make_shared<TextLinesSink>(path, flush_each_line,
                                         [](const Result& r) { return to_json(r).dump() + "\n"; });
}

std::shared_ptr<Sink> make_events_sink(const std::string& path, bool flush_each_line) {
  return std::make_shared<TextLinesSink>(path, flush_each_line, [](const Result& r) {
    std::string lines;
    for (const auto& e : r.events) lines += to_json(e, r).dump() + "\n";
    return lines;
  });
}

std::shared_ptr<Sink> make_mot_sink(const std::string& path) {
  return std::make_shared<TextLinesSink>(path, false, [](const Result& r) {
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
