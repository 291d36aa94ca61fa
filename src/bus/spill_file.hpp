#pragma once
// The file a frame message names by `path` (docs/BUS.md): read only when it is a regular file inside the
// spill folder, links resolved, of a bounded size. Anyone who can write to Redis can name a path, so a
// path outside is refused without touching the filesystem (the reason cannot tell whether it exists), and
// no reason quotes the file's bytes.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace sf {

class SpillFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The bytes of `path`. Throws SpillFileError: no spill folder (empty `spill_dir`), a path outside it
// (before or after resolving links), not a regular file (a device, a FIFO), over `max_bytes`, unreadable.
std::vector<unsigned char> read_spilled_file(const std::string& path, const std::string& spill_dir,
                                             size_t max_bytes);

}  // namespace sf
