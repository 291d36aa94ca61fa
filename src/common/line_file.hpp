#pragma once
// A text file written in whole lines, for outputs that other programs read while they grow or after a
// crash (JSON Lines results and events, MOT tracks, dead letters). Each write() hands the kernel complete
// lines in one write(2) and nothing waits in a user-space buffer, so a process killed at any moment
// (kill -9, the OOM killer) leaves only whole lines; a write that fails half-way (disk full) is cut back to
// the last whole line. stdio's buffer, by contrast, goes out in 4 KiB blocks that end mid-line.
#include <string>
#include <string_view>

namespace sf {

class LineFile {
 public:
  enum class Mode { Truncate, Append };
  // "-" is standard output. `what` names the file in errors ("results file"). Throws std::runtime_error
  // "cannot create WHAT PATH: reason".
  LineFile(std::string path, Mode mode, std::string what);
  ~LineFile();
  LineFile(const LineFile&) = delete;
  LineFile& operator=(const LineFile&) = delete;

  // `lines`: complete lines, each ending in '\n'. Throws std::runtime_error "cannot write WHAT PATH: reason".
  void write(std::string_view lines);
  void close();
  const std::string& path() const { return path_; }

 private:
  std::string path_, what_;
  int fd_ = -1;
  bool owned_ = false;    // opened here (not standard output)
  bool regular_ = false;  // a regular file: a failed write can be cut back
};

}  // namespace sf
