#pragma once
// The files of a segmented video: NAME.mp4 is written as NAME-000.mp4, NAME-001.mp4, ... (at least three
// digits), so a long or looping run leaves files that each end and can be copied, played or deleted on
// their own. Numbering goes on after the highest segment already in the folder, so a restarted run never
// overwrites (or mixes into) an earlier run's segments, and a bound on how many are kept counts them too.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sf {

class VideoSegments {
 public:
  // `base`: the video's path as configured (NAME.EXT). `keep`: how many segments to keep, counting the one
  // being written; older ones are deleted when a new one starts (0: keep all).
  VideoSegments(std::filesystem::path base, int keep);

  // The next segment's path; deletes the oldest segments beyond `keep` (the new one counted).
  std::filesystem::path start_next();

  // Segments of this name in the folder, oldest (lowest number) first.
  std::vector<std::filesystem::path> existing() const;

 private:
  // The number of `file` when it is a segment of this name (NAME-<digits>.EXT), else -1.
  int64_t number_of(const std::filesystem::path& file) const;

  std::filesystem::path folder_;
  std::string stem_, extension_;
  int keep_;
  int64_t next_ = 0;
};

}  // namespace sf
