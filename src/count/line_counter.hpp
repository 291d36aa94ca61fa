#pragma once
// Counting tracks that cross line segments, without I/O: the geometry and per-track state behind the
// `lines` stage.
//
// For a line A->B and a point P (image pixels, y down), c(P) = ((Bx-Ax)(Py-Ay) - (By-Ay)(Px-Ax)) / |AB|
// is P's signed distance from the line. `in` is a move from c < 0 to c > 0, `out` the reverse: for
// A=(0,100), B=(200,100) (drawn left to right), a point above the line (y < 100) has c < 0, so walking
// down across it is `in`. A track's side changes only once it is more than `band` pixels past the line
// (inside the band it keeps its last side), so a box jittering on the line counts nothing. The crossing
// counts only when the path met the line within the segment (the meeting point projects inside A..B).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core/types.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sightflow/detection.hpp"
#include "sightflow/result.hpp"

namespace sf {

struct LineSpec {
  std::string name;
  cv::Point2f a, b;
  double band = 10;  // pixels either side of the line where a track keeps its last side
};

struct LineCounterOptions {
  std::vector<LineSpec> lines;
  double forget_after = 5;       // media seconds: state of a track not seen that long is dropped
  std::set<std::string> labels;  // only these classes (empty: all)
};

struct LineTotals {
  int64_t in = 0, out = 0;
};

class LineCounter {
 public:
  explicit LineCounter(LineCounterOptions options);

  // One new sighting of the tracks in `detections` (those without a track_id are ignored) at media time
  // `time` (seconds, non-decreasing); returns the crossings ("line" events).
  std::vector<Event> update(double time, const std::vector<Detection>& detections);

  // {"NAME": {"in": N, "out": N, "by_label": {"LABEL": {"in": N, "out": N}}}, ...}
  nlohmann::json summary() const;

  LineTotals totals(const std::string& line) const;
  LineTotals totals(const std::string& line, const std::string& label) const;
  size_t tracked() const { return tracks_.size(); }  // tracks with state (bounded by forget_after)

  // Signed distance of p from the line a->b, pixels (positive: the `in` side).
  static double signed_distance(const LineSpec& line, cv::Point2f p);

 private:
  enum class Side { Unknown, Negative, Positive };
  struct LineState {
    Side side = Side::Unknown;
    double last_c = 0;
    std::optional<double> crossing_t;  // where the path last met the line: 0 at A, 1 at B
  };
  struct Track {
    double last_seen = 0;
    cv::Point2f last_point;
    std::vector<LineState> lines;
  };
  struct Count {
    LineTotals total;
    std::map<std::string, LineTotals> by_label;
  };

  void forget(double time);

  LineCounterOptions options_;
  std::map<int64_t, Track> tracks_;
  std::vector<Count> counts_;  // per line, in options_.lines order
};

}  // namespace sf
