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

  // Algorithms on one stream deliver in frame order each, but interleaved: a fast or sparse one can hand
  // in frame 20 while a slower one is still at 15. A frame waits until every algorithm seen on its stream
  // has reached it (at most kMaxWaiting frames), so that frames 16..19 are not lost from the video.
  void write(const Result& r) override {
    if (r.image.empty()) return;
    auto& out = outputs_[r.stream];
    out.progress[r.algo] = r.frame;
    if (out.written_any && r.frame <= out.last_frame) {  // too late for the video: its frame is written
      out.latest[r.algo] = r.detections;
      return;
    }
    auto& waiting = out.waiting[r.frame];
    if (waiting.detections.empty()) waiting.first = r;
    waiting.detections[r.algo] = r.detections;
    encode_ready(out, false);
  }

  void close() override {
    for (auto& [stream, out] : outputs_) {
      encode_ready(out, true);
      if (out.encoder) out.encoder->close();
    }
  }

 private:
  static constexpr size_t kMaxWaiting = 8;  // offline, one algorithm runs at most ~6 frames ahead of another

  struct Waiting {
    Result first;                                              // the frame's first result: image, analytics
    std::map<std::string, std::vector<Detection>> detections;  // per algorithm with a result for the frame
  };
  struct Output {
    std::unique_ptr<VideoEncoder> encoder;
    std::optional<VideoSegments> segments;                 // with segment_s > 0
    double segment_start = 0;                              // media time of the current file's first frame
    std::map<std::string, std::vector<Detection>> latest;  // per algorithm
    std::map<std::string, int64_t> progress;               // per algorithm, its newest frame
    std::map<int64_t, Waiting> waiting;                    // frames not yet encoded, by number
    int64_t last_frame = -1;
    bool written_any = false;
    RateMeter rate{2.0};
  };

  // Encodes the waiting frames, oldest first, that every algorithm has reached (all of them at the end).
  void encode_ready(Output& out, bool all) {
    while (!out.waiting.empty()) {
      auto oldest = out.waiting.begin();
      bool ready = true;
      for (const auto& [algo, frame] : out.progress) ready = ready && frame >= oldest->first;
      if (!ready && !all && out.waiting.size() <= kMaxWaiting) return;
      for (auto& [algo, detections] : oldest->second.detections) out.latest[algo] = std::move(detections);
      encode(out, oldest->second.first);
      out.waiting.erase(oldest);
    }
  }

  void encode(Output& out, const Result& r) {
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
