#pragma once
// The `lines` stage: counts tracked detections (those with a track_id) crossing named line segments.
//
// Options:
//   {"lines": [{"name": "door", "points": [x1,y1,x2,y2], "band": 10}, ...],   // band optional
//    "band": 10,            // default band for lines without one, pixels
//    "forget_after": 5,     // media seconds before an unseen track's state is dropped
//    "labels": ["person"]}  // optional: count only these classes
// Each result gets result.analytics["lines"] = {"door": {"in": 7, "out": 5, "by_label": {"person":
// {"in": 7, "out": 5}}}} and one Event {type "line", name, track_id, label, direction "in"|"out"} per
// crossing. Direction and hysteresis: see count/line_counter.hpp. Results carried over by motion skip mode
// (values.motion.carried) are not new sightings: they only get the totals.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "count/line_counter.hpp"
#include "sightflow/stage.hpp"

namespace sf {

// Reads and checks the options above; throws std::invalid_argument naming the bad one.
LineCounterOptions parse_line_options(const nlohmann::json& options);
std::unique_ptr<Stage> make_line_stage(const nlohmann::json& options);

// The flag form `NAME=x1,y1,x2,y2` (for `--line`); band stays at its default.
LineSpec parse_line_flag(const std::string& text);
// A line as one element of the "lines" option, so flags can be turned into stage options: name and points
// only, as the flag gives, so the stage's top-level band applies to it.
nlohmann::json to_json(const LineSpec& line);

}  // namespace sf
