#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sf {

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  // A name of this process's own, in the same folder (rename is atomic within one file system).
  const std::filesystem::path temporary = path.string() + ".tmp-" + std::to_string(::getpid());
  auto fail = [&](int error) {
    ::unlink(temporary.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(error));
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) fail(errno);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      ::close(fd);
      fail(error);
    }
    done += size_t(n);
  }
  if (::close(fd) != 0) fail(errno);
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail(errno);
}

}  // namespace sf
