#pragma once
// What this binary is: its version, the git revision it was built from, and the OpenCV and FFmpeg it
// runs with. Read by `sightflow --version` and the sightflow_build_info metric.
#include <string>

namespace sf {

struct BuildInfo {
  std::string version;         // the project's version (CMakeLists.txt)
  std::string git_revision;    // short commit hash at configure time; "unknown" outside a git checkout
  std::string opencv_version;  // of the library loaded at run time
  std::string ffmpeg_version;  // of the library loaded at run time
};

const BuildInfo& build_info();

// `sightflow --version`: "sightflow VERSION (git REVISION)" and a line per library.
std::string version_text();

}  // namespace sf
