#pragma once
// What this binary is, for `sightflow --version` and the sightflow_build_info metric: the project version,
// the git revision it was built from, and the OpenCV and FFmpeg libraries it runs with.
#include <string>

namespace sf {

struct BuildInfo {
  std::string version;   // CMake's project version
  std::string revision;  // git revision when CMake configured the build; "unknown" outside a checkout
  std::string opencv;    // the OpenCV library loaded at run time
  std::string ffmpeg;    // the FFmpeg libraries loaded at run time
};

const BuildInfo& build_info();

}  // namespace sf
