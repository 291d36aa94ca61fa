#pragma once
// The newest events of each stream, kept in memory with a small JPEG of the frame each happened on: the
// event list of /api/events when the server has no store, and the thumbnails of recent events either way
// (a store keeps a frame only when the archive does). Thumbnails are drawn when the event arrives (events
// are rare; a frame kept by reference instead would pin a full image per event). Thread-safe.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sightflow/result.hpp"
#include "sightflow/store_reads.hpp"

namespace sf {

struct LoggedEvent {
  int64_t id = 0;  // unique in this process, names its thumbnail
  StoredEvent event;
  std::shared_ptr<const std::vector<unsigned char>> thumbnail;  // null when the result had no frame
};

class EventLog {
 public:
  explicit EventLog(size_t per_stream = 200, int thumbnail_width = 240)
      : per_stream_(per_stream), thumbnail_width_(thumbnail_width) {}

  // The result's events; `frame` is the image they happened on (the result's own, or the stream's newest
  // when the result came without one), with the event's track boxed on the thumbnail.
  void add(const Result& result, const cv::Mat& frame);
  // Newest first, filtered like the store's events().
  std::vector<LoggedEvent> recent(const EventQuery& query) const;
  void forget(const std::string& stream);  // its events and their thumbnails
  std::shared_ptr<const std::vector<unsigned char>> thumbnail(int64_t id) const;
  // The id of the logged event that is `stored` (same stream, algo, frame, type, name, track).
  std::optional<int64_t> find(const StoredEvent& stored) const;

 private:
  size_t per_stream_;
  int thumbnail_width_;
  mutable std::mutex mutex_;
  int64_t next_id_ = 1;
  std::map<std::string, std::deque<LoggedEvent>> streams_;  // oldest first
};

// The /api/events object of an event: {"stream","algo","type","name","track_id","label","direction",
// "dwell","frame","pts","ts"} (optional fields only when set; ts: the frame's capture time).
nlohmann::ordered_json event_json(const StoredEvent& event);

}  // namespace sf
