#pragma once
// What the browser sees live: per stream the newest frame with the newest detections of each algorithm
// drawn on it, as a JPEG shared by every viewer, the newest result per algorithm, counts, crossings and
// occupancy over time, and the recent events with their thumbnails.
//
// Inference never waits for viewers: publishing stores a reference to the frame and bumps a version
// (no drawing, no encoding). A viewer asking for a version it has not seen draws and encodes it once; the
// viewers that ask for the same version share that JPEG, and a drawing younger than 1/max_encode_fps is
// handed to every viewer that has not seen it, so a stream costs at most max_encode_fps encodes per second
// however many viewers watch it, out of phase or not. A slow viewer simply asks less often and gets the
// newest frame, skipping the ones in between. Thread-safe.
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sightflow/metrics.hpp"
#include "sightflow/result.hpp"
#include "sightflow/sink.hpp"
#include "web/analytics_history.hpp"
#include "web/count_history.hpp"
#include "web/event_log.hpp"

namespace sf {

struct LiveJpeg {
  int64_t version = 0;
  std::shared_ptr<const std::vector<unsigned char>> bytes;
  int width = 0, height = 0;
};

class LiveView {
 public:
  explicit LiveView(int jpeg_quality = 80, double max_encode_fps = 10)
      : jpeg_quality_(jpeg_quality), min_encode_interval_s_(1.0 / max_encode_fps) {}

  // A sink for in-process pipelines: every result (with its frame) is published.
  std::shared_ptr<Sink> make_sink();
  // A new frame of `stream` without a result (frames read from Redis); drawn with the latest detections.
  void publish_frame(const std::string& stream, const cv::Mat& image);
  // A result; its frame (when it carries one) becomes the stream's newest frame.
  void publish_result(const Result& result);

  // The newest frame, drawn and encoded, once its version is above `after`; waits up to `timeout_s`.
  // nullopt on timeout, for an unknown stream, or after close().
  std::optional<LiveJpeg> next_frame(const std::string& stream, int64_t after, double timeout_s);

  std::vector<std::string> streams() const;
  bool has_stream(const std::string& stream) const;
  // The newest result of each algorithm of `stream` as JSON Lines objects.
  nlohmann::ordered_json latest_results(const std::string& stream) const;
  // Detections in the newest result of (stream, algo); -1 when none yet.
  int latest_count(const std::string& stream, const std::string& algo) const;
  // What the stages added to the newest result of (stream, algo): its analytics ({"lines": ..., "zones":
  // ...}; {} when none), and its newest events, oldest first (at most kRecentEvents, JSON as in
  // --events-out).
  nlohmann::ordered_json latest_analytics(const std::string& stream, const std::string& algo) const;
  nlohmann::ordered_json recent_events(const std::string& stream, const std::string& algo) const;
  static constexpr size_t kRecentEvents = 10;
  // Results per second of `stream` over the last seconds (the video's effective frame rate).
  double result_rate(const std::string& stream) const;
  const CountHistory& history() const { return history_; }
  const AnalyticsHistory& analytics_history() const { return analytics_; }
  const EventLog& events() const { return events_; }

  // Viewers currently watching `stream` (the MJPEG route counts them).
  void viewer_joined(const std::string& stream);
  void viewer_left(const std::string& stream);
  int viewers(const std::string& stream) const;
  int viewers() const;

  // `stream` has ended: its newest frame is drawn once more if needed and then released, so that the view
  // keeps the last drawing (a JPEG of tens of KB) and not a decoded frame (1.3 MB at 768x576) for each of
  // the ended streams a server still lists. A stream of that name publishing again brings a new frame.
  void ended(const std::string& stream);
  // Drops what is kept of `stream` (a stream that has ended and left the list): its frame, results,
  // counts, crossings, occupancy and events. While a viewer still watches it or a drawing of it is being
  // made, only the frame and its drawing are dropped.
  void forget(const std::string& stream);

  // Wakes every waiting viewer for good (server shutdown).
  void close();

 private:
  struct StreamView {
    cv::Mat image;  // newest frame, shared with the pipeline (never drawn on)
    int64_t version = 0;
    std::map<std::string, Result> latest;                              // per algorithm, without its image
    std::map<std::string, std::deque<nlohmann::ordered_json>> events;  // per algorithm, newest last
    LiveJpeg encoded;                                                  // the drawing of `encoded.version`
    double encoded_at = -1e9;                                          // steady time of that drawing
    std::shared_ptr<std::mutex> encode_mutex = std::make_shared<std::mutex>();
    RateMeter rate{3.0};
    int viewers = 0;
    int drawing = 0;  // viewers inside encode(), which holds a reference to this view across unlocks
  };
  LiveJpeg encode(const std::string& stream, StreamView& view, std::unique_lock<std::mutex>& lock);

  int jpeg_quality_;
  double min_encode_interval_s_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, StreamView> streams_;
  CountHistory history_;
  AnalyticsHistory analytics_;
  EventLog events_;
  bool closed_ = false;
};

}  // namespace sf
