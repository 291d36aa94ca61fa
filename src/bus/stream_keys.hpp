#pragma once
// The Redis keys of one named stream: its frames, its results, and the messages no worker could decode.
#include <string>

namespace sf {

inline std::string frames_key(const std::string& stream) { return "sf:frames:" + stream; }
inline std::string results_key(const std::string& stream) { return "sf:results:" + stream; }
inline std::string dead_letter_key(const std::string& stream) { return "sf:dead:" + stream; }

}  // namespace sf
