#pragma once
// How a Result becomes rows, the same for every backend.
#include "sightflow/result.hpp"

namespace sf {

// The time a result describes: when its newest frame was captured (the production time if unknown).
inline double frame_time(const Result& r) { return r.capture_ts > 0 ? r.capture_ts : r.ts; }

// The `json` column: the JSON Lines object of the result.
inline std::string result_json(const Result& r) { return to_json(r).dump(); }

}  // namespace sf
