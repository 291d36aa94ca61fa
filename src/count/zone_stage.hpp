#pragma once
// The `zones` stage: occupancy, enter/exit and loitering of tracked detections (those with a track_id)
// in named polygons.
//
// Options (per-zone loiter, min_frames and exit_after override the top-level defaults):
//   {"zones": [{"name": "lawn", "points": [x1,y1,x2,y2,x3,y3,...], "loiter": 30, "min_frames": 3,
//               "exit_after": 2}, ...],
//    "loiter": 0,          // seconds inside before one `loiter` event; 0: off
//    "min_frames": 3,      // sightings in a row inside before a track counts and `enter` fires
//    "exit_after": 2,      // media seconds unseen before a track inside exits
//    "labels": ["person"]} // optional: only these classes
// Each result gets result.analytics["zones"] = {"lawn": {"count": 3, "by_label": {"person": 3}}} and
// Events {type "enter"|"exit"|"loiter", name, track_id, label, dwell (exit, loiter)}. Semantics: see
// count/zone_counter.hpp. Results carried over by motion skip mode (values.motion.carried) are not new
// sightings: they neither advance nor expire anything, and only get the occupancy.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "count/zone_counter.hpp"
#include "sightflow/stage.hpp"

namespace sf {

// Reads and checks the options above; throws std::invalid_argument naming the bad one.
ZoneCounterOptions parse_zone_options(const nlohmann::json& options);
std::unique_ptr<Stage> make_zone_stage(const nlohmann::json& options);

// The flag form `NAME=x1,y1,x2,y2,x3,y3[,...]` (for `--zone`); the rest stays at its defaults.
ZoneSpec parse_zone_flag(const std::string& text);
// A zone as one element of the "zones" option, so flags can be turned into stage options: name and points
// only, as the flag gives, so the stage's top-level loiter, min_frames and exit_after apply to it.
nlohmann::json to_json(const ZoneSpec& zone);

}  // namespace sf
