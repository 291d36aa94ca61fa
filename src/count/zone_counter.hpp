#pragma once
// Occupancy of polygon zones by tracks, without I/O: the state behind the `zones` stage.
//
// A track is inside when the bottom centre of its box is inside the polygon or on its edge. It counts
// (and its `enter` fires) once it has been inside for `min_frames` sightings in a row (a missed detection
// is no sighting and does not break the row); dwell runs from the first of those sightings, when it
// actually stepped in. It exits when it is seen outside, or when it has not been seen for `exit_after`
// seconds (dwell then ends at its last sighting). `loiter` > 0 raises one `loiter` event per stay once
// the dwell reaches it. Times are media seconds.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core/types.hpp>
#include <set>
#include <string>
#include <vector>

#include "sightflow/detection.hpp"
#include "sightflow/result.hpp"

namespace sf {

struct ZoneSpec {
  std::string name;
  std::vector<cv::Point2f> polygon;
  double loiter = 0;      // seconds; 0: off
  int min_frames = 3;     // sightings in a row inside before a track counts
  double exit_after = 2;  // seconds unseen before a track inside exits
};

struct ZoneCounterOptions {
  std::vector<ZoneSpec> zones;
  std::set<std::string> labels;  // only these classes (empty: all)
};

class ZoneCounter {
 public:
  explicit ZoneCounter(ZoneCounterOptions options);

  // One new sighting of the tracks in `detections` (those without a track_id are ignored) at media time
  // `time` (seconds, non-decreasing); returns the enter, exit and loiter events.
  std::vector<Event> update(double time, const std::vector<Detection>& detections);

  // {"NAME": {"count": N, "by_label": {"LABEL": N}}, ...}: tracks counted inside now.
  nlohmann::json summary() const;

  int64_t count(const std::string& zone) const;
  size_t tracked() const;  // track states held, all zones

 private:
  struct Track {
    std::string label;
    int streak = 0;           // sightings in a row inside
    double first_inside = 0;  // time of the first of them
    double last_seen = 0;
    bool counted = false;
    bool loitered = false;
  };
  struct Zone {
    ZoneSpec spec;
    std::map<int64_t, Track> tracks;  // tracks inside or on their way to counting
  };

  Event event(const char* type, const Zone& zone, int64_t id, const Track& track) const;

  std::vector<Zone> zones_;
  std::set<std::string> labels_;
};

}  // namespace sf
