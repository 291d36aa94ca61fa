#include "bus/spill_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sf {
namespace {

namespace fs = std::filesystem;

// Both absolute and normal (no "." or ".." left): a file strictly below the folder.
bool is_inside(const fs::path& file, const fs::path& folder) {
  auto relative = file.lexically_relative(folder);
  return !relative.empty() && *relative.begin() != ".." && relative != ".";
}

struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::vector<unsigned char> read_spilled_file(const std::string& path, const std::string& spill_dir,
                                             size_t max_bytes) {
  if (spill_dir.empty()) throw SpillFileError("frames sent by path are not accepted here (no spill folder)");
  if (path.find('\0') != std::string::npos) throw SpillFileError("the path holds a NUL byte");
  const auto folder = fs::absolute(spill_dir).lexically_normal();
  if (!is_inside(fs::absolute(path).lexically_normal(), folder))
    throw SpillFileError(path + " is outside the spill folder " + folder.string());
  std::error_code ec;
  const auto real_folder = fs::canonical(folder, ec);
  const auto real_file = ec ? fs::path() : fs::canonical(path, ec);
  if (ec) throw SpillFileError("cannot read " + path + ": " + ec.message());
  if (!is_inside(real_file, real_folder))
    throw SpillFileError(path + " leads outside the spill folder " + folder.string() + " (a link)");
  // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the last part was resolved above.
  FileDescriptor file{::open(real_file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)};
  if (file.fd < 0) throw SpillFileError("cannot read " + path + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode))
    throw SpillFileError(path + " is not a regular file");
  const auto limit = std::to_string(max_bytes) + " bytes (--max-spill-bytes)";
  if (size_t(info.st_size) > max_bytes) throw SpillFileError(path + " is larger than " + limit);
  // Read to the end, never past the limit: the file may have grown since fstat.
  std::vector<unsigned char> bytes(size_t(info.st_size) + 1);
  size_t done = 0;
  for (;;) {
    if (done == bytes.size()) {
      if (bytes.size() > max_bytes) throw SpillFileError(path + " is larger than " + limit);
      bytes.resize(std::min(max_bytes + 1, bytes.size() * 2));
    }
    auto n = ::read(file.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SpillFileError("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    done += size_t(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace sf
