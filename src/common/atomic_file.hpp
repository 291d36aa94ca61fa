#pragma once
// Whole files written so that a reader, or the file left after a crash, sees the old content or the new,
// never a part: the bytes go to a temporary file beside it, which is then renamed over it (dataset images,
// labels and manifests, MOT track files).
#include <filesystem>
#include <string_view>

namespace sf {

// Throws std::runtime_error "cannot write PATH: reason"; the temporary file is removed then.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace sf
