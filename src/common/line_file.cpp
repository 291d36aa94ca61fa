#include "common/line_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace sf {

LineFile::LineFile(std::string path, Mode mode, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {
  if (path_ == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode == Mode::Append ? O_APPEND : O_TRUNC);
    fd_ = ::open(path_.c_str(), flags, 0666);
    if (fd_ < 0)
      throw std::runtime_error("cannot create " + what_ + " " + path_ + ": " + std::strerror(errno));
    owned_ = true;
  }
  struct stat st {};
  regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
}

LineFile::~LineFile() { close(); }

void LineFile::write(std::string_view lines) {
  if (fd_ < 0) throw std::runtime_error("cannot write " + what_ + " " + path_ + ": already closed");
  if (!owned_) std::fflush(stdout);  // whatever the process printed before goes first
  size_t done = 0;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n > 0) {
      done += size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const int error = n < 0 ? errno : ENOSPC;
    // Cut the file back to where these lines began, so that it still ends with a whole line. The offset
    // is past what was written (O_APPEND included).
    if (regular_ && done > 0) {
      const off_t end = ::lseek(fd_, 0, SEEK_CUR);
      if (end >= off_t(done) && ::ftruncate(fd_, end - off_t(done)) == 0)
        ::lseek(fd_, end - off_t(done), SEEK_SET);
    }
    throw std::runtime_error("cannot write " + what_ + " " + path_ + ": " + std::strerror(error));
  }
}

void LineFile::close() {
  if (owned_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace sf
