#pragma once
// What an algorithm's stages were given for one frame (its result before any stage), written exactly:
// floats and times at full precision, unlike the rounded JSON Lines. A new owner of a stream replays
// these through fresh stages and gets their state back bit for bit (stages are deterministic functions
// of the results they see, in order).
#include <string>

#include "sightflow/result.hpp"

namespace sf {

std::string stage_input_json(const Result& result);
// The inverse; stream and algo are not written (the log's key names them). Throws std::invalid_argument.
Result stage_input_from_json(const std::string& text, const std::string& stream, const std::string& algo);

}  // namespace sf
