#include "web/event_log.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "draw/annotate.hpp"
#include "media/jpeg_codec.hpp"

namespace sf {
namespace {

bool same_event(const StoredEvent& a, const StoredEvent& b) {
  return a.frame == b.frame && a.algo == b.algo && a.event.type == b.event.type &&
         a.event.name == b.event.name && a.event.track_id == b.event.track_id;
}

// The frame shrunk to `width` pixels across, the event's track boxed, as a JPEG.
std::vector<unsigned char> thumbnail_of(const cv::Mat& frame, const Result& result, const Event& event,
                                        int width) {
  const double scale = std::min(1.0, double(width) / frame.cols);
  cv::Mat small;
  cv::resize(frame, small, cv::Size(), scale, scale, cv::INTER_AREA);
  std::vector<AnnotationBox> boxes;
  for (const auto& d : result.detections) {
    if (!event.track_id || d.track_id != event.track_id) continue;
    const cv::Rect2f box(d.box.x * float(scale), d.box.y * float(scale), d.box.width * float(scale),
                         d.box.height * float(scale));
    boxes.push_back({box, d.label, -1, d.track_id});
  }
  draw_annotations(small, boxes, {});
  return encode_jpeg(small, 75);
}

}  // namespace

void EventLog::add(const Result& result, const cv::Mat& frame) {
  if (result.events.empty()) return;
  std::vector<LoggedEvent> logged;
  for (const auto& e : result.events) {
    LoggedEvent l;
    l.event.stream = result.stream;
    l.event.algo = result.algo;
    l.event.frame = result.frame;
    l.event.pts = result.pts;
    l.event.ts = result.capture_ts > 0 ? result.capture_ts : result.ts;  // as the store keeps it
    l.event.event = e;
    if (!frame.empty() && (frame.type() == CV_8UC3 || frame.type() == CV_8UC1))
      l.thumbnail = std::make_shared<const std::vector<unsigned char>>(
          thumbnail_of(frame, result, e, thumbnail_width_));
    logged.push_back(std::move(l));
  }
  std::lock_guard lock(mutex_);
  auto& events = streams_[result.stream];
  for (auto& l : logged) {
    l.id = next_id_++;
    events.push_back(std::move(l));
  }
  while (events.size() > per_stream_) events.pop_front();
}

std::vector<LoggedEvent> EventLog::recent(const EventQuery& q) const {
  std::vector<LoggedEvent> out;
  std::lock_guard lock(mutex_);
  for (const auto& [stream, events] : streams_) {
    if (!q.stream.empty() && stream != q.stream) continue;
    for (const auto& l : events) {
      if (!q.type.empty() && l.event.event.type != q.type) continue;
      if ((q.from && l.event.ts < *q.from) || (q.to && l.event.ts > *q.to)) continue;
      out.push_back(l);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const LoggedEvent& a, const LoggedEvent& b) {
    return a.event.ts != b.event.ts ? a.event.ts > b.event.ts : a.id > b.id;
  });
  if (q.limit >= 0 && out.size() > size_t(q.limit)) out.resize(size_t(q.limit));
  return out;
}

std::shared_ptr<const std::vector<unsigned char>> EventLog::thumbnail(int64_t id) const {
  std::lock_guard lock(mutex_);
  for (const auto& [stream, events] : streams_) {
    // Ids grow along each deque: a binary search finds the event.
    auto it = std::lower_bound(events.begin(), events.end(), id,
                               [](const LoggedEvent& l, int64_t wanted) { return l.id < wanted; });
    if (it != events.end() && it->id == id) return it->thumbnail;
  }
  return nullptr;
}

std::optional<int64_t> EventLog::find(const StoredEvent& stored) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stored.stream);
  if (it == streams_.end()) return std::nullopt;
  for (auto l = it->second.rbegin(); l != it->second.rend(); ++l)
    if (same_event(l->event, stored)) return l->id;
  return std::nullopt;
}

nlohmann::ordered_json event_json(const StoredEvent& s) {
  const Event& e = s.event;
  nlohmann::ordered_json out = {{"stream", s.stream}, {"algo", s.algo}, {"type", e.type}, {"name", e.name}};
  if (e.track_id) out["track_id"] = *e.track_id;
  if (!e.label.empty()) out["label"] = e.label;
  if (!e.direction.empty()) out["direction"] = e.direction;
  if (e.dwell) out["dwell"] = std::round(*e.dwell * 1e3) / 1e3;
  out["frame"] = s.frame;
  out["pts"] = std::round(s.pts * 1e6) / 1e6;
  out["ts"] = std::round(s.ts * 1e6) / 1e6;
  return out;
}

void EventLog::forget(const std::string& stream) {
  std::lock_guard lock(mutex_);
  streams_.erase(stream);
}

}  // namespace sf
