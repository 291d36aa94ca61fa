#include "image_bombs.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <vector>

#include "media/image_probe.hpp"

namespace sf::test {
namespace {

std::string encoded(const std::string& extension) {
  cv::Mat image(48, 64, CV_8UC3, cv::Scalar(40, 90, 160));
  cv::circle(image, {32, 24}, 12, cv::Scalar(250, 250, 250), cv::FILLED);
  std::vector<unsigned char> bytes;
  if (!cv::imencode(extension, image, bytes)) throw std::runtime_error("cannot encode " + extension);
  return {bytes.begin(), bytes.end()};
}

void put_big_endian(std::string& bytes, size_t at, uint32_t value, int size) {
  for (int i = 0; i < size; ++i) bytes[at + size_t(i)] = char(value >> (8 * (size - 1 - i)));
}

void put_little_endian(std::string& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + size_t(i)] = char(value >> (8 * i));
}

// PNG's chunk CRC (ISO 3309), bit by bit: a few bytes only.
uint32_t crc32(const std::string& bytes, size_t from, size_t to) {
  uint32_t crc = 0xFFFFFFFF;
  for (size_t i = from; i < to; ++i) {
    crc ^= uint8_t(bytes[i]);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
  }
  return ~crc;
}

}  // namespace

std::string jpeg_declaring(int width, int height) {
  auto bytes = encoded(".jpg");
  auto sof = bytes.find("\xFF\xC0");  // FF C0, length (2), precision (1), height (2), width (2)
  if (sof == std::string::npos) throw std::runtime_error("no SOF0 marker");
  put_big_endian(bytes, sof + 5, uint32_t(height), 2);
  put_big_endian(bytes, sof + 7, uint32_t(width), 2);
  return bytes;
}

std::string png_declaring(int width, int height) {
  auto bytes = encoded(".png");  // signature (8), IHDR length (4), "IHDR", width, height, ..., CRC at 29
  put_big_endian(bytes, 16, uint32_t(width), 4);
  put_big_endian(bytes, 20, uint32_t(height), 4);
  put_big_endian(bytes, 29, crc32(bytes, 12, 29), 4);
  return bytes;
}

std::string bmp_declaring(int width, int height) {
  auto bytes = encoded(".bmp");  // file header (14), DIB header size, width at 18, height at 22
  put_little_endian(bytes, 18, uint32_t(width));
  put_little_endian(bytes, 22, uint32_t(height));
  return bytes;
}

ScopedPixelLimit::ScopedPixelLimit(int64_t pixels) : previous_(max_image_pixels()) {
  set_max_image_pixels(pixels);
}

ScopedPixelLimit::~ScopedPixelLimit() { set_max_image_pixels(previous_); }

}  // namespace sf::test
