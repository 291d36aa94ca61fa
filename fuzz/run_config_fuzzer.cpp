// Run configs (`sightflow run --config FILE`): YAML text through the reader, its stage and sink option
// readers and the checks, as the CLI reads a file. Errors must come out as ConfigError naming file:line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sightflow/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // A `profile` stage loads the file it names: a config is the operator's, so devices are out of bounds
  // here rather than a finding (they would block the run, as they would `run`).
  if (text.find("/dev") != std::string::npos || text.find("/proc") != std::string::npos) return 0;
  try {
    sf::parse_run_config(text, "fuzz.yaml");
  } catch (const sf::ConfigError&) {
  }
  return 0;
}
