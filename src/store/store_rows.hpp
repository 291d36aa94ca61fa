#pragma once
// How a Result becomes rows, the same for every backend.
#include <array>
#include <string>

#include "sightflow/result.hpp"

namespace sf {

// The time a result describes: when its newest frame was captured (the production time if unknown).
inline double frame_time(const Result& r) { return r.capture_ts > 0 ? r.capture_ts : r.ts; }

// The times a result's roll-up samples are bucketed by, one per clock: capture time ("wall", unix seconds)
// and media time ("media", pts: seconds of the stream's own timeline).
struct ClockTime {
  const char* clock;
  double t;
};
inline std::array<ClockTime, 2> clock_times(const Result& r) {
  return {{{"wall", frame_time(r)}, {"media", r.pts}}};
}

// Retention of one roll-up table's media buckets: media time has no relation to today's date, so a level
// keeps the buckets younger than its age counted back from the newest media bucket of the (stream, algo);
// every result adds a "*" sample to `rollups`, whose newest bucket is that end for all three tables.
// `level` and `age` are the placeholders of the level's name and its age in seconds.
inline std::string media_retention_sql(const std::string& table, const std::string& level,
                                       const std::string& age) {
  return "DELETE FROM " + table + " WHERE clock = 'media' AND level = " + level +
         " AND bucket < (SELECT max(m.bucket) FROM rollups m WHERE m.stream = " + table +
         ".stream AND m.algo = " + table +
         ".algo AND m.label = '*' AND m.clock = 'media' AND m.level = " + level + ") - " + age;
}

// The `json` column: the JSON Lines object of the result.
inline std::string result_json(const Result& r) { return to_json(r).dump(); }

}  // namespace sf
