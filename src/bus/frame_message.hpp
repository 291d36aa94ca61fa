#pragma once
// A frame as a Redis Streams message: fields seq, pts, ts, width, height, enc ("jpeg") and either data (the
// JPEG bytes) or path (a JPEG file in a shared folder, for frames larger than the inline limit). Anyone who
// can write to Redis can write a message: a reader trusts none of it (sizes, paths, bytes).
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bus/stream_entry.hpp"
#include "sightflow/frame.hpp"

namespace sf {

// A message that is not a frame sightflow can use; what() is the reason recorded in the dead-letter stream.
class FrameMessageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where capture writes large frames unless told otherwise, and where workers read them.
inline constexpr const char* kDefaultSpillDir = "sightflow-out/capture-frames";

struct FrameMessageOptions {
  int jpeg_quality = 90;
  size_t max_inline_bytes = 1 << 20;  // larger JPEGs are written under spill_dir and sent by path
  std::string spill_dir = kDefaultSpillDir;
};

// What a reader accepts. A `path` is read only when it lies inside spill_dir, after resolving links, and
// is a regular file of at most max_spill_bytes: a message naming /dev/zero or /etc/shadow is refused
// without opening it.
struct FrameDecodeOptions {
  std::string spill_dir;  // empty: frames sent by path are refused
  size_t max_spill_bytes = 64 << 20;
};

using MessageFields = std::vector<std::pair<std::string, std::string>>;

struct FrameMessage {
  MessageFields fields;
  std::string spilled_path;  // the file written for a large frame, empty when sent inline
  size_t jpeg_bytes = 0;
};

// Encodes the frame's image as JPEG (libturbojpeg); a JPEG over the limit goes to
// spill_dir/<stream>/<unix-ms>-<seq>.jpg (written whole, then renamed into place).
FrameMessage encode_frame_message(const Frame& frame, const FrameMessageOptions& options);

// The frame of a message of `stream`. Throws FrameMessageError naming the field and what is wrong: a
// missing or malformed field, a size over the pixel limit (max_image_pixels), another encoding, a
// truncated or corrupt JPEG, a path refused or unreadable, or an image whose size differs from
// width x height. The reason never quotes a spilled file's bytes.
Frame decode_frame_message(const std::string& stream, const StreamEntry& entry,
                           const FrameDecodeOptions& options = {});

}  // namespace sf
