#include "media/image_decode.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "media/jpeg_codec.hpp"

namespace sf {
namespace {

// No image within the limit needs more than 8 bytes a pixel (16-bit RGBA, uncompressed), plus metadata.
int64_t largest_image_file() { return max_image_pixels() * 8 + (1 << 20); }

struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

cv::Mat decode_image_bytes(const unsigned char* data, size_t size) {
  auto header = probe_image(data, size);
  if (auto problem = image_size_problem(header.width, header.height)) throw ImageError(*problem);
  if (header.format == "JPEG") return decode_jpeg(data, size);
  if (size > size_t(INT32_MAX))
    throw ImageError("over 2 GB");  // OpenCV takes the buffer as one int-sized row
  cv::Mat image;
  try {
    image = cv::imdecode(cv::Mat(1, int(size), CV_8UC1, const_cast<unsigned char*>(data)), cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    // OpenCV's message names its own source lines: the fixed one below says more to a user.
  }
  if (image.empty()) throw ImageError("not a decodable " + std::string(header.format) + " image");
  return image;
}

cv::Mat read_image_file(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (file.fd < 0) throw ImageError(std::string("cannot open: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode)) throw ImageError("not a regular file");
  if (info.st_size > largest_image_file())
    throw ImageError("larger than " + std::to_string(largest_image_file()) +
                     " bytes, the most an image within " + std::to_string(max_image_pixels()) +
                     " pixels (--max-pixels) needs");
  std::vector<unsigned char> bytes(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::read(file.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ImageError(std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;  // it shrank: decoding says whether what was read is whole
    done += size_t(n);
  }
  return decode_image_bytes(bytes.data(), done);
}

}  // namespace sf
