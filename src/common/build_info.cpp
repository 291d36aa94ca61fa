#include "common/build_info.hpp"

extern "C" {
#include <libavutil/avutil.h>
}

#include <opencv2/core/utility.hpp>

// Set by CMakeLists.txt on this file only, so that a new revision recompiles nothing else.
#ifndef SIGHTFLOW_VERSION
#define SIGHTFLOW_VERSION "unknown"
#endif
#ifndef SIGHTFLOW_GIT_REVISION
#define SIGHTFLOW_GIT_REVISION "unknown"
#endif

namespace sf {

const BuildInfo& build_info() {
  static const BuildInfo info{SIGHTFLOW_VERSION, SIGHTFLOW_GIT_REVISION, cv::getVersionString(),
                              av_version_info()};
  return info;
}

std::string version_text() {
  const auto& b = build_info();
  return "sightflow " + b.version + " (git " + b.git_revision + ")\nOpenCV " + b.opencv_version +
         "\nFFmpeg " + b.ffmpeg_version;
}

}  // namespace sf
