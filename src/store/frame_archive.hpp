#pragma once
// JPEG copies of analysed frames under one folder, ROOT/<stream>/<YYYY-MM-DD>/<HHMMSS>-<seq>.jpg, kept by a
// policy (frames with detections, every Nth frame) and pruned by age and total size. The store holds a
// `frames` row per kept frame naming its file; this class owns the files and never the rows, so the
// caller writes the records it returns and clears the ones it reports.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sightflow/result.hpp"
#include "sightflow/store.hpp"  // FrameRecord, ArchivePolicy

namespace sf {

// Thread-safe. Errors creating folders or writing files are std::runtime_error naming the path and why.
class FrameArchive {
 public:
  // Creates `root` if needed; throws std::invalid_argument for a policy out of range.
  FrameArchive(std::filesystem::path root, ArchivePolicy policy);

  // Decides by policy and, when kept, writes ROOT/<stream>/<YYYY-MM-DD>/<HHMMSS>-<seq>.jpg (UTC time of
  // result.capture_ts) and, with policy.annotated, <HHMMSS>-<seq>.annotated.jpg beside it; each file is
  // written under a temporary name and renamed, so a crash never leaves a half file under a final name.
  // Returns the frame's record (archive_path relative to the root, '/'-separated; archive_bytes of both
  // files), or nullopt when not kept: by policy, a result without an image, or a frame already kept for
  // another algorithm's result. Every-Nth counts a stream's frames (new sequence numbers), not results.
  // Images: 8-bit BGR, BGRA or grey; another type is std::invalid_argument.
  std::optional<FrameRecord> maybe_keep(const Result& result);

  // Deletes a frame's files (raw and annotated) and folders left empty; missing files are fine. Throws
  // std::invalid_argument for a path that is absolute or leaves the root.
  void remove(const std::string& archive_path);

  // The frames to delete, oldest first, so that the limits hold as of unix time `now`: all older than
  // now - max_age_s, then the oldest until the total archive_bytes of `frames` is <= max_bytes.
  std::vector<FrameRecord> over_limits(const std::vector<FrameRecord>& frames, double now) const;

  // After a crash: deletes archive files (*.jpg) that no record names and leftover temporary files, and
  // returns the records whose raw file is missing (for the caller to clear in the store).
  std::vector<FrameRecord> reconcile(const std::vector<FrameRecord>& records);

  const std::filesystem::path& root() const { return root_; }
  const ArchivePolicy& policy() const { return policy_; }

 private:
  struct StreamState {
    int64_t newest_seq = -1;  // newest frame seen: older ones (a slower algorithm's) are not new frames
    int64_t frames_seen = 0;
    // Recently kept frames: a result for one of them (another algorithm's, possibly late) is not kept
    // again. A few dozen cover algorithms that lag each other by several frames.
    std::deque<int64_t> recent_kept;
  };

  std::filesystem::path root_;
  ArchivePolicy policy_;
  std::mutex mutex_;
  std::map<std::string, StreamState> streams_;
};

}  // namespace sf
