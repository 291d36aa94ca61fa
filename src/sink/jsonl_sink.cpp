#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "sightflow/sink.hpp"

namespace sf {
namespace {

class JsonlSink : public Sink {
 public:
  JsonlSink(const std::string& path, bool flush_each_line) : path_(path), flush_(flush_each_line) {
    if (path == "-") {
      file_ = stdout;
    } else {
      file_ = std::fopen(path.c_str(), "w");
      if (!file_)
        throw std::runtime_error("cannot create results file " + path + ": " + std::strerror(errno));
    }
  }
  ~JsonlSink() override { close(); }

  void write(const Result& result) override {
    std::string line = to_json(result).dump() + "\n";
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
  std::FILE* file_ = nullptr;
};

}  // namespace

std::shared_ptr<Sink> make_jsonl_sink(const std::string& path, bool flush_each_line) {
  return std::make_shared<JsonlSink>(path, flush_each_line);
}

}  // namespace sf
