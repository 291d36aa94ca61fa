#pragma once
// What the store answers to readers (the web API, tools), typed: count, line and zone series from the
// roll-ups, archived frames and events. The questions carry no SQL; each backend answers them the same.
#include <cstdint>
#include <optional>
#include <string>

#include "sightflow/result.hpp"

namespace sf {

// A series of one (stream, algo) at one roll-up level ("1s", "1m", "1h") over buckets starting in
// [from, to] (seconds on the series' clock; `from` is rounded down to its bucket).
struct SeriesQuery {
  std::string stream, algo;
  std::string level = "1s";
  double from = 0, to = 0;
  std::string name;  // counts: the label ("*": all detections); lines, zones: one name ("" all)
  // "wall": buckets of capture time (unix seconds); "media": of media time (pts, seconds since the stream
  // started); "auto": the stream's own (Store::resolve_clock: media for files analysed offline).
  std::string clock = "auto";
};

// One bucket of the detection counts (the `counts` view): labels absent from a result count 0.
struct CountBucket {
  double t = 0;  // bucket start on the series' clock
  double avg = 0;
  int64_t min = 0, max = 0, samples = 0;
};

// Crossings of one line in one bucket; `samples` results fell in it (so a bucket without crossings is 0, 0).
struct LineBucket {
  std::string line;
  double t = 0;
  int64_t in = 0, out = 0, samples = 0;
};

// Occupancy of one zone in one bucket, over the results that fell in it.
struct ZoneBucket {
  std::string zone;
  double t = 0;
  double avg = 0;
  int64_t min = 0, max = 0, samples = 0;
};

// Archived frames, newest first.
struct FrameQuery {
  std::string stream;  // "" every stream
  std::optional<double> from, to;
  int64_t limit = 100;
};

// Events, newest first.
struct EventQuery {
  std::string stream;  // "" every stream
  std::string type;    // "" every type
  std::optional<double> from, to;
  int64_t limit = 100;
};

// An event with the context of the result that carried it.
struct StoredEvent {
  std::string stream, algo;
  int64_t frame = 0;
  double pts = 0, ts = 0;  // ts: the frame's capture time
  Event event;
  bool archived = false;  // the event's frame has an archived JPEG
};

}  // namespace sf
