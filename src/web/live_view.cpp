#include "web/live_view.hpp"

#include <chrono>
#include <cstdio>

#include "draw/annotate.hpp"
#include "media/jpeg_codec.hpp"

namespace sf {

namespace {

class LiveViewSink : public Sink {
 public:
  explicit LiveViewSink(LiveView& view) : view_(view) {}
  void write(const Result& result) override { view_.publish_result(result); }

 private:
  LiveView& view_;
};

}  // namespace

std::shared_ptr<Sink> LiveView::make_sink() { return std::make_shared<LiveViewSink>(*this); }

void LiveView::publish_frame(const std::string& stream, const cv::Mat& image) {
  {
    std::lock_guard lock(mutex_);
    auto& view = streams_[stream];
    view.image = image;
    ++view.version;
    view.rate.tick(steady_now());
  }
  changed_.notify_all();
}

void LiveView::publish_result(const Result& result) {
  history_.add(result);
  analytics_.add(result);
  if (!result.events.empty()) {
    // A result read from Redis comes without its frame: its events are shown on the stream's newest.
    cv::Mat frame = result.image;
    if (frame.empty()) {
      std::lock_guard lock(mutex_);
      if (auto it = streams_.find(result.stream); it != streams_.end()) frame = it->second.image;
    }
    events_.add(result, frame);
  }
  {
    std::lock_guard lock(mutex_);
    auto& view = streams_[result.stream];
    auto& events = view.events[result.algo];
    for (const auto& e : result.events) events.push_back(to_json(e, result));
    while (events.size() > kRecentEvents) events.pop_front();
    Result kept = result;
    kept.image = cv::Mat();
    view.latest[result.algo] = std::move(kept);
    if (!result.image.empty()) {
      view.image = result.image;
      view.rate.tick(steady_now());
    }
    // New boxes change the drawing even when the frame stays (results read from Redis come after it).
    if (!view.image.empty()) ++view.version;
  }
  changed_.notify_all();
}

std::optional<LiveJpeg> LiveView::next_frame(const std::string& stream, int64_t after, double timeout_s) {
  std::unique_lock lock(mutex_);
  auto ready = [&] {
    if (closed_) return true;
    auto it = streams_.find(stream);
    return it != streams_.end() && it->second.version > after &&
           (!it->second.image.empty() || it->second.encoded.version == it->second.version);
  };
  if (!changed_.wait_for(lock, std::chrono::duration<double>(timeout_s), ready) || closed_)
    return std::nullopt;
  auto& view = streams_.at(stream);  // map nodes stay put: the reference outlives the unlocks below
  if (view.encoded.version == view.version) return view.encoded;
  // A recent drawing this viewer has not seen yet is new enough: no second encode within the interval.
  if (view.encoded.version > after && steady_now() - view.encoded_at < min_encode_interval_s_)
    return view.encoded;
  return encode(stream, view, lock);
}

LiveJpeg LiveView::encode(const std::string& stream, StreamView& view, std::unique_lock<std::mutex>& lock) {
  // One viewer draws and encodes a version; the others wait on the stream's encode mutex and reuse it.
  // Order: encode mutex first, then mutex_ (never the other way round).
  // forget() leaves a view that is being drawn in place; the lock is held again on every way out.
  struct Drawing {
    StreamView& view;
    std::unique_lock<std::mutex>& lock;
    ~Drawing() {
      if (!lock.owns_lock()) lock.lock();
      --view.drawing;
    }
  } drawing{view, lock};
  ++view.drawing;
  auto encode_mutex = view.encode_mutex;
  lock.unlock();
  std::lock_guard encoding(*encode_mutex);
  lock.lock();
  if (view.encoded.version == view.version) return view.encoded;
  int64_t version = view.version;
  cv::Mat canvas = view.image.clone();
  std::vector<AnnotationBox> boxes;
  std::vector<std::string> lines{stream};
  std::vector<AnnotationShape> shapes;
  for (const auto& [algo, result] : view.latest) {
    add_annotation_boxes(boxes, result.detections);
    for (auto& shape : analytics_shapes(result)) shapes.push_back(std::move(shape));
    lines.push_back(algo + ": count " + std::to_string(result.detections.size()));
    for (auto& line : analytics_lines(result)) lines.push_back(std::move(line));
  }
  char fps[32];
  std::snprintf(fps, sizeof fps, "%.1f fps", view.rate.rate(steady_now()));
  lines.push_back(fps);
  lock.unlock();

  draw_annotations(canvas, boxes, lines, shapes);
  LiveJpeg jpeg{version,
                std::make_shared<const std::vector<unsigned char>>(encode_jpeg(canvas, jpeg_quality_)),
                canvas.cols, canvas.rows};
  lock.lock();
  if (jpeg.version > view.encoded.version) {
    view.encoded = jpeg;
    view.encoded_at = steady_now();
  }
  return jpeg;
}

std::vector<std::string> LiveView::streams() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, view] : streams_) names.push_back(name);
  return names;
}

bool LiveView::has_stream(const std::string& stream) const {
  std::lock_guard lock(mutex_);
  return streams_.count(stream) > 0;
}

nlohmann::ordered_json LiveView::latest_results(const std::string& stream) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return list;
  for (const auto& [algo, result] : it->second.latest) list.push_back(to_json(result));
  return list;
}

int LiveView::latest_count(const std::string& stream, const std::string& algo) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return -1;
  auto r = it->second.latest.find(algo);
  return r == it->second.latest.end() ? -1 : int(r->second.detections.size());
}

nlohmann::ordered_json LiveView::latest_analytics(const std::string& stream, const std::string& algo) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return nlohmann::ordered_json::object();
  auto r = it->second.latest.find(algo);
  if (r == it->second.latest.end()) return nlohmann::ordered_json::object();
  return nlohmann::ordered_json(r->second.analytics);
}

nlohmann::ordered_json LiveView::recent_events(const std::string& stream, const std::string& algo) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return list;
  auto e = it->second.events.find(algo);
  if (e != it->second.events.end())
    for (const auto& event : e->second) list.push_back(event);
  return list;
}

double LiveView::result_rate(const std::string& stream) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.rate.rate(steady_now());
}

void LiveView::viewer_joined(const std::string& stream) {
  std::lock_guard lock(mutex_);
  ++streams_[stream].viewers;
}

void LiveView::viewer_left(const std::string& stream) {
  std::lock_guard lock(mutex_);
  --streams_[stream].viewers;
}

int LiveView::viewers(const std::string& stream) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.viewers;
}

int LiveView::viewers() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& [name, view] : streams_) n += view.viewers;
  return n;
}

void LiveView::ended(const std::string& stream) {
  std::unique_lock lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end() || it->second.image.empty()) return;
  auto& view = it->second;
  encode(stream, view, lock);  // returns with the lock held
  // Unless a frame came in meanwhile (a new stream of the same name), the drawing now shows the newest one.
  if (view.encoded.version == view.version) view.image.release();
}

void LiveView::forget(const std::string& stream) {
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(stream);
    if (it != streams_.end() && (it->second.viewers > 0 || it->second.drawing > 0)) {
      it->second.image.release();
      it->second.encoded = LiveJpeg{};
      return;
    }
    if (it != streams_.end()) streams_.erase(it);
  }
  history_.forget(stream);
  analytics_.forget(stream);
  events_.forget(stream);
}

void LiveView::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

}  // namespace sf
