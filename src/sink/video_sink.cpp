// Annotated video per stream: each result's frame is drawn with the latest boxes of every algorithm on
// that stream and encoded at its media time, so gaps (frame_step, drops) keep the video's real speed.
#include <filesystem>
#include <map>

#include "draw/annotate.hpp"
#include "sightflow/metrics.hpp"
#include "sightflow/sink.hpp"
#include "sink/video_encoder.hpp"

namespace sf {
namespace {

class VideoSink : public Sink {
 public:
  VideoSink(std::string path, double fps, bool several_streams)
      : path_(std::move(path)), fps_(fps > 0 ? fps : 25.0), several_(several_streams) {}

  void write(const Result& r) override {
    if (r.image.empty()) return;
    auto& out = outputs_[r.stream];
    out.latest[r.algo] = r.detections;
    if (out.written_any && r.frame <= out.last_frame) return;  // this frame is already in the video
    if (!out.encoder) {
      out.encoder = std::make_unique<VideoEncoder>(path_for(r.stream), r.image.cols, r.image.rows, fps_);
    }
    cv::Mat canvas = r.image.clone();  // the shared frame must stay untouched for other sinks
    std::vector<AnnotationBox> boxes;
    std::vector<std::string> lines;
    for (const auto& [algo, detections] : out.latest) {
      add_annotation_boxes(boxes, detections);
      lines.push_back(algo + ": " + std::to_string(detections.size()));
    }
    for (auto& line : analytics_lines(r)) lines.push_back(std::move(line));
    double now = steady_now();
    out.rate.tick(now);
    char fps_text[32];
    std::snprintf(fps_text, sizeof fps_text, "fps %.1f", out.rate.rate(now));
    lines.push_back(fps_text);
    draw_annotations(canvas, boxes, lines, analytics_shapes(r));
    out.encoder->write(canvas, r.pts);
    out.last_frame = r.frame;
    out.written_any = true;
  }

  void close() override {
    for (auto& [stream, out] : outputs_) {
      if (out.encoder) out.encoder->close();
    }
  }

 private:
  struct Output {
    std::unique_ptr<VideoEncoder> encoder;
    std::map<std::string, std::vector<Detection>> latest;  // per algorithm
    int64_t last_frame = -1;
    bool written_any = false;
    RateMeter rate{2.0};
  };

  std::string path_for(const std::string& stream) const {
    if (!several_) return path_;
    std::filesystem::path p(path_);
    return (p.parent_path() / (p.stem().string() + "." + stream + p.extension().string())).string();
  }

  std::string path_;
  double fps_;
  bool several_;
  std::map<std::string, Output> outputs_;
};

}  // namespace

std::shared_ptr<Sink> make_video_sink(const std::string& path, double fps, bool several_streams) {
  return std::make_shared<VideoSink>(path, fps, several_streams);
}

}  // namespace sf
