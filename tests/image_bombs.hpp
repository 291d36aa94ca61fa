#pragma once
// Images whose headers declare far more pixels than they hold (decompression bombs, as an attacker sends
// them): a real small image with its size fields rewritten, so only a decoder that trusts the header
// allocates for the declared size. And a guard that lowers the pixel limit for one test.
#include <cstdint>
#include <string>

namespace sf::test {

std::string jpeg_declaring(int width, int height);  // baseline JPEG, SOF0 rewritten
std::string png_declaring(int width, int height);   // IHDR rewritten, its CRC fixed
std::string bmp_declaring(int width, int height);   // BITMAPINFOHEADER rewritten

// Sets max_image_pixels() for its lifetime.
class ScopedPixelLimit {
 public:
  explicit ScopedPixelLimit(int64_t pixels);
  ~ScopedPixelLimit();
  ScopedPixelLimit(const ScopedPixelLimit&) = delete;
  ScopedPixelLimit& operator=(const ScopedPixelLimit&) = delete;

 private:
  int64_t previous_;
};

}  // namespace sf::test
