// Annotated video per stream: each result's frame is drawn with the latest boxes of every algorithm on
// that stream and encoded at its media time, so gaps (frame_step, drops) keep the video's real speed.
// With segments, a stream's video is cut every `segment_s` media seconds into files that each end.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>
#include <optional>

#include "draw/annotate.hpp"
#include "sightflow/metrics.hpp"
#include "sightflow/sink.hpp"
#include "sink/video_encoder.hpp"
#include "sink/video_segments.hpp"

namespace sf {
namespace {

class VideoSink : public Sink {
 public:
  VideoSink(VideoSinkOptions options, bool several_streams)
      : options_(std::move(options)), several_(several_streams) {
    if (!(options_.fps > 0)) options_.fps = 25.0;
  }

  void write(const Result& r) override {
    if (r.image.empty()) return;
    auto& out = outputs_[r.stream];
    out.latest[r.algo] = r.detections;
    if (out.written_any && r.frame <= out.last_frame) return;  // this frame is already in the video
    if (out.encoder && options_.segment_s > 0 && r.pts - out.segment_start >= options_.segment_s) {
      out.encoder->close();  // the segment ends complete before the next one starts
      out.encoder.reset();
    }
    if (!out.encoder) {
      std::string path = path_for(r.stream);
      if (options_.segment_s > 0) {
        if (!out.segments) out.segments.emplace(path, options_.keep_segments);
        path = out.segments->start_next().string();
        spdlog::debug("video: {} starts segment {}", r.stream, path);
      }
      out.encoder = std::make_unique<VideoEncoder>(path, r.image.cols, r.image.rows, options_.fps);
      out.segment_start = r.pts;
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
    std::optional<VideoSegments> segments;                 // with segment_s > 0
    double segment_start = 0;                              // media time of the current file's first frame
    std::map<std::string, std::vector<Detection>> latest;  // per algorithm
    int64_t last_frame = -1;
    bool written_any = false;
    RateMeter rate{2.0};
  };

  std::string path_for(const std::string& stream) const {
    if (!several_) return options_.path;
    std::filesystem::path p(options_.path);
    return (p.parent_path() / (p.stem().string() + "." + stream + p.extension().string())).string();
  }

  VideoSinkOptions options_;
  bool several_;
  std::map<std::string, Output> outputs_;
};

}  // namespace

std::shared_ptr<Sink> make_video_sink(const VideoSinkOptions& options, bool several_streams) {
  return std::make_shared<VideoSink>(options, several_streams);
}

std::shared_ptr<Sink> make_video_sink(const std::string& path, double fps, bool several_streams) {
  return make_video_sink(VideoSinkOptions{path, fps, 0, 0}, several_streams);
}

}  // namespace sf
