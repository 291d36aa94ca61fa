#include "store/frame_archive.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "common/stable_hash.hpp"
#include "draw/annotate.hpp"
#include "media/jpeg_codec.hpp"
#include "sightflow/frame.hpp"

namespace sf {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxStreamFolder = 64;
constexpr size_t kRecentKept = 64;
constexpr const char* kTempSuffix = ".tmp";

// The stream's folder name: only [A-Za-z0-9._-], never "." or ".." (no slash survives, so the name cannot
// leave the root). A name that had to change gets a hash of the original, so that "cam/1" and "cam:1"
// keep separate folders (a shared file would be deleted with either stream's frame).
std::string stream_folder(const std::string& stream) {
  std::string out;
  for (char c : stream) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.find_first_not_of('.') == std::string::npos) std::replace(out.begin(), out.end(), '.', '_');
  if (out == stream && !out.empty() && out.size() <= kMaxStreamFolder) return out;
  if (out.size() > kMaxStreamFolder) out.resize(kMaxStreamFolder);
  char hash[16];
  std::snprintf(hash, sizeof(hash), "%s%08x", out.empty() ? "" : "-",
                static_cast<unsigned>(stable_hash(stream)));
  return out + hash;
}

// "a/b/123456-7.jpg" -> "a/b/123456-7.annotated.jpg".
std::string annotated_path(const std::string& raw) {
  constexpr std::string_view ext = ".jpg";
  if (raw.size() >= ext.size() && raw.compare(raw.size() - ext.size(), ext.size(), ext) == 0)
    return raw.substr(0, raw.size() - ext.size()) + ".annotated.jpg";
  return raw + ".annotated.jpg";
}

// `archive_path` as a normalised relative path inside the root, or nullopt when it is empty, absolute or
// climbs out with "..".
std::optional<fs::path> inside_root(const std::string& archive_path) {
  if (archive_path.empty()) return std::nullopt;
  fs::path p = fs::path(archive_path).lexically_normal();
  if (p.is_absolute() || p.has_root_name() || p.empty() || *p.begin() == ".." || *p.begin() == ".")
    return std::nullopt;
  return p;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Our temporary files: "<name>.jpg.<pid>-<n>.tmp".
bool is_temp_file(const std::string& name) {
  return ends_with(name, kTempSuffix) && name.find(".jpg.") != std::string::npos;
}

std::runtime_error io_error(const std::string& what, const fs::path& path, int err) {
  return std::runtime_error(what + " " + path.string() + ": " + std::strerror(err));
}

void make_folder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create archive folder " + dir.string() + ": " + ec.message());
}

// Writes `bytes` to a unique temporary name beside `path`, flushes it to disk, then renames it: the final
// name only ever holds a whole file, even after a power loss (then at worst the file is missing, which
// reconcile() reports).
void write_atomically(const fs::path& path, const std::vector<unsigned char>& bytes) {
  static std::atomic<uint64_t> counter{0};
  const fs::path temp = path.string() + "." + std::to_string(::getpid()) + "-" +
                        std::to_string(counter.fetch_add(1)) + kTempSuffix;
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENOENT) {  // remove() pruned the folder just after we created it: once more
    make_folder(path.parent_path());
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
  if (fd < 0) throw io_error("cannot write", temp, errno);
  auto fail = [&](const char* what, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    return io_error(what, temp, err);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail("cannot write", errno);
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) throw fail("cannot flush", errno);
  const int rc = ::close(fd);
  fd = -1;
  if (rc != 0) throw fail("cannot write", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw io_error("cannot rename " + temp.string() + " to", path, err);
  }
}

void remove_file(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);  // a missing file is no error
  if (ec) throw std::runtime_error("cannot delete " + path.string() + ": " + ec.message());
}

// Removes `dir` and its parents up to (not including) `root` while they are empty.
void prune_empty_folders(fs::path dir, const fs::path& root) {
  std::error_code ec;
  while (!dir.empty() && dir != root && dir.string().size() > root.string().size()) {
    if (!fs::remove(dir, ec)) break;  // not empty (or gone): stop
    dir = dir.parent_path();
  }
}

cv::Mat annotated_copy(const Result& r, const cv::Mat& image, const std::string& date,
                       const std::string& hms) {
  cv::Mat copy = image.clone();  // result.image is shared with other sinks: never draw on it
  std::vector<AnnotationBox> boxes;
  boxes.reserve(r.detections.size());
  add_annotation_boxes(boxes, r.detections);
  std::vector<std::string> lines = {r.stream + "  " + date + " " + hms.substr(0, 2) + ":" + hms.substr(2, 2) +
                                        ":" + hms.substr(4, 2) + " UTC",
                                    r.algo + "  frame " + std::to_string(r.frame) + "  " +
                                        std::to_string(r.detections.size()) + " detections"};
  for (size_t i = 0; i < r.labels.size() && i < 3; ++i) {
    char score[32];
    std::snprintf(score, sizeof(score), " %.2f", static_cast<double>(r.labels[i].score));
    lines.push_back(r.labels[i].label + score);
  }
  draw_annotations(copy, boxes, lines, analytics_shapes(r));
  return copy;
}

}  // namespace

FrameArchive::FrameArchive(fs::path root, ArchivePolicy policy) : root_(std::move(root)), policy_(policy) {
  if (policy_.quality < 1 || policy_.quality > 100)
    throw std::invalid_argument("archive quality " + std::to_string(policy_.quality) + " is not in 1..100");
  if (policy_.keep_every < 0) throw std::invalid_argument("archive keep_every must be >= 0");
  if (!(policy_.max_age_s >= 0) || !std::isfinite(policy_.max_age_s))
    throw std::invalid_argument("archive max_age_s must be a number >= 0");
  if (policy_.max_bytes < 0) throw std::invalid_argument("archive max_bytes must be >= 0");
  if (root_.empty()) throw std::invalid_argument("archive folder not set");
  root_ = root_.lexically_normal();
  if (!root_.has_filename()) root_ = root_.parent_path();  // "a/b/" -> "a/b": prefix checks stay simple
  make_folder(root_);
}

std::optional<FrameRecord> FrameArchive::maybe_keep(const Result& result) {
  StreamState* state;
  {
    std::lock_guard lock(mutex_);
    state = &streams_[result.stream];  // map nodes are stable: the pointer outlives the lock
    const bool new_frame = result.frame > state->newest_seq;
    if (new_frame) {
      state->newest_seq = result.frame;
      ++state->frames_seen;
    }
    auto& recent = state->recent_kept;
    if (std::find(recent.begin(), recent.end(), result.frame) != recent.end()) return std::nullopt;
    // Every Nth counts from the stream's first frame, so something is archived from the start.
    const bool nth =
        new_frame && policy_.keep_every > 0 && (state->frames_seen - 1) % policy_.keep_every == 0;
    const bool detections = policy_.keep_detections && !result.detections.empty();
    if (!(nth || detections) || result.image.empty()) return std::nullopt;
    // Claimed before writing (outside the lock), so a concurrent result for the frame is not kept twice.
    recent.push_back(result.frame);
    if (recent.size() > kRecentKept) recent.pop_front();
  }

  try {
    cv::Mat image = result.image;
    if (image.type() == CV_8UC4) cv::cvtColor(image, image, cv::COLOR_BGRA2BGR);
    const std::string date = format_utc(result.capture_ts, "%Y-%m-%d");
    const std::string hms = format_utc(result.capture_ts, "%H%M%S");
    const std::string rel =
        stream_folder(result.stream) + "/" + date + "/" + hms + "-" + std::to_string(result.frame) + ".jpg";
    const fs::path raw_path = root_ / rel;
    make_folder(raw_path.parent_path());

    const auto raw = encode_jpeg(image, policy_.quality);
    write_atomically(raw_path, raw);
    int64_t bytes = static_cast<int64_t>(raw.size());
    if (policy_.annotated) {
      try {
        const auto annotated = encode_jpeg(annotated_copy(result, image, date, hms), policy_.quality);
        write_atomically(root_ / annotated_path(rel), annotated);
        bytes += static_cast<int64_t>(annotated.size());
      } catch (...) {
        std::error_code ec;
        fs::remove(raw_path, ec);  // no half-archived frame that no record names
        throw;
      }
    }

    FrameRecord rec;
    rec.stream = result.stream;
    rec.seq = result.frame;
    rec.pts = result.pts;
    rec.ts = result.capture_ts;
    rec.width = image.cols;
    rec.height = image.rows;
    rec.archive_path = rel;
    rec.archive_bytes = bytes;
    return rec;
  } catch (...) {
    std::lock_guard lock(mutex_);  // not kept after all: a later result for the frame may try again
    auto& recent = state->recent_kept;
    if (auto it = std::find(recent.begin(), recent.end(), result.frame); it != recent.end()) recent.erase(it);
    throw;
  }
}

void FrameArchive::remove(const std::string& archive_path) {
  auto rel = inside_root(archive_path);
  if (!rel) throw std::invalid_argument("archive path '" + archive_path + "' is not inside the archive");
  const fs::path raw = root_ / *rel;
  remove_file(raw);
  remove_file(root_ / annotated_path(rel->generic_string()));
  prune_empty_folders(raw.parent_path(), root_);
}

std::vector<FrameRecord> FrameArchive::over_limits(const std::vector<FrameRecord>& frames, double now) const {
  // Sorted here too (stable, by ts) rather than trusting the caller's order: a wrong order deletes the
  // wrong frames.
  std::vector<size_t> order;
  for (size_t i = 0; i < frames.size(); ++i)
    if (!frames[i].archive_path.empty()) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return frames[a].ts < frames[b].ts; });

  int64_t total = 0;
  for (size_t i : order) total += frames[i].archive_bytes;
  std::vector<FrameRecord> out;
  size_t next = 0;
  if (policy_.max_age_s > 0) {
    const double cutoff = now - policy_.max_age_s;
    for (; next < order.size() && frames[order[next]].ts < cutoff; ++next) {
      out.push_back(frames[order[next]]);
      total -= frames[order[next]].archive_bytes;
    }
  }
  if (policy_.max_bytes > 0) {
    for (; next < order.size() && total > policy_.max_bytes; ++next) {
      out.push_back(frames[order[next]]);
      total -= frames[order[next]].archive_bytes;
    }
  }
  return out;
}

std::vector<FrameRecord> FrameArchive::reconcile(const std::vector<FrameRecord>& records) {
  std::set<std::string> named;
  for (const auto& r : records) {
    if (auto rel = inside_root(r.archive_path)) {
      named.insert(rel->generic_string());
      named.insert(annotated_path(rel->generic_string()));
    }
  }

  // Collected first, deleted after: the directory iterator must not see its tree change.
  std::vector<fs::path> doomed, folders;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    const fs::file_status st = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_directory(st)) {
      folders.push_back(it->path());
      continue;
    }
    if (!fs::is_regular_file(st)) continue;  // links and the like are not ours
    const std::string name = it->path().filename().string();
    const std::string rel = it->path().lexically_relative(root_).generic_string();
    if (is_temp_file(name) || (ends_with(name, ".jpg") && !named.count(rel))) doomed.push_back(it->path());
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw std::runtime_error("cannot list archive folder " + root_.string() + ": " + ec.message());
  for (const auto& p : doomed) remove_file(p);
  // Deepest first, so a date folder goes before its stream folder.
  std::sort(folders.begin(), folders.end(),
            [](const fs::path& a, const fs::path& b) { return a.string().size() > b.string().size(); });
  for (const auto& dir : folders) fs::remove(dir, ec);  // only succeeds when empty

  std::vector<FrameRecord> missing;
  for (const auto& r : records) {
    if (r.archive_path.empty()) continue;
    auto rel = inside_root(r.archive_path);
    if (!rel || !fs::is_regular_file(root_ / *rel, ec)) missing.push_back(r);
  }
  return missing;
}

}  // namespace sf
