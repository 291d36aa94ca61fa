// MOT text files (`sightflow eval --gt FILE`, tracker output read back): ground truth and tracks.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sightflow/mot_metrics.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (bool ground_truth : {true, false}) {
    try {
      std::istringstream in(text);
      auto frames = sf::parse_mot_tracks(in, "fuzz.txt", ground_truth);
      // Scored against itself, as eval would score it against tracks.
      sf::evaluate_tracks(frames, frames);
    } catch (const std::runtime_error&) {
    }
  }
  return 0;
}
