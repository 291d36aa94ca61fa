#include "common/build_info.hpp"

extern "C" {
#include <libavutil/avutil.h>
}
#include <opencv2/core/utility.hpp>

// Both come from CMake for this file only, so a new revision recompiles one file.
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

}  // namespace sf
