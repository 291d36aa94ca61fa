#pragma once
// The Redis keys of one named stream: its frames, its results, and the messages no worker could decode;
// with stages, the lease that makes one member of a group the stream's only reader and the log of the
// inputs its stages were given.
#include <string>

namespace sf {

inline std::string frames_key(const std::string& stream) { return "sf:frames:" + stream; }
inline std::string results_key(const std::string& stream) { return "sf:results:" + stream; }
inline std::string dead_letter_key(const std::string& stream) { return "sf:dead:" + stream; }
inline std::string lease_key(const std::string& stream, const std::string& group) {
  return "sf:lease:" + stream + ":" + group;
}
inline std::string stage_log_key(const std::string& stream, const std::string& algo) {
  return "sf:stagelog:" + stream + ":" + algo;
}

}  // namespace sf
