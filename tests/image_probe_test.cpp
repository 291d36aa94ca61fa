// Image headers read without decoding (every format the API, the bus and image folders take), bombs refused
// by their header naming the pixel limit, formats whose size cannot be read refused, damaged headers
// described without quoting bytes, and files that are not images (devices, FIFOs) never read.
#include "media/image_probe.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "image_bombs.hpp"
#include "media/image_decode.hpp"
#include "media/jpeg_codec.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

std::string encoded(const std::string& extension) {
  std::vector<unsigned char> bytes;
  EXPECT_TRUE(cv::imencode(extension, cv::Mat(48, 64, CV_8UC3, cv::Scalar(10, 120, 240)), bytes));
  return {bytes.begin(), bytes.end()};
}

const unsigned char* data_of(const std::string& bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

std::string decode_error(const std::string& bytes) {
  try {
    decode_image_bytes(data_of(bytes), bytes.size());
  } catch (const ImageError& e) {
    return e.what();
  }
  return "";
}

std::string read_error(const std::filesystem::path& path) {
  try {
    read_image_file(path);
  } catch (const ImageError& e) {
    return e.what();
  }
  return "";
}

TEST(ImageProbe, ReadsTheSizeOfEveryFormatFromItsHeaderAndDecodesIt) {
  const std::pair<const char*, const char*> formats[] = {
      {".jpg", "JPEG"}, {".png", "PNG"}, {".bmp", "BMP"}, {".tiff", "TIFF"}, {".webp", "WebP"}};
  for (const auto& [extension, format] : formats) {
    auto bytes = encoded(extension);
    auto header = probe_image(data_of(bytes), bytes.size());
    EXPECT_EQ(header.format, format) << extension;
    EXPECT_EQ(header.width, 64) << extension;
    EXPECT_EQ(header.height, 48) << extension;
    EXPECT_EQ(image_header_problem(bytes), std::nullopt) << extension;
    auto image = decode_image_bytes(data_of(bytes), bytes.size());
    EXPECT_EQ(image.size(), cv::Size(64, 48)) << extension;
    EXPECT_EQ(image.type(), CV_8UC3) << extension;
  }
}

TEST(ImageProbe, BombsAreRefusedByTheirHeaderNamingTheLimit) {
  const std::string over = "20000x20000 is over the limit of 40000000 pixels (--max-pixels)";
  for (const auto& bomb : {test::jpeg_declaring(20000, 20000), test::png_declaring(20000, 20000),
                           test::bmp_declaring(20000, 20000)}) {
    auto header = probe_image(data_of(bomb), bomb.size());
    EXPECT_EQ(header.width, 20000) << header.format;
    EXPECT_EQ(image_header_problem(bomb), over) << header.format;
    EXPECT_EQ(decode_error(bomb), over) << header.format;
  }
  // The JPEG decoder asks too, whoever calls it.
  auto jpeg = test::jpeg_declaring(20000, 20000);
  try {
    decode_jpeg(data_of(jpeg), jpeg.size());
    ADD_FAILURE() << "decoded";
  } catch (const JpegError& e) {
    EXPECT_EQ(e.what(), over);
  }
  // Just under the limit passes the header check (and then fails as the truncated image it is).
  auto under = test::png_declaring(8000, 5000);
  EXPECT_EQ(image_header_problem(under), std::nullopt);
}

TEST(ImageProbe, TheLimitIsASetting) {
  EXPECT_EQ(max_image_pixels(), kDefaultMaxImagePixels);
  {
    test::ScopedPixelLimit limit(64 * 48 - 1);
    for (const char* extension : {".jpg", ".png", ".bmp", ".tiff", ".webp"}) {
      EXPECT_EQ(image_header_problem(encoded(extension)),
                "64x48 is over the limit of 3071 pixels (--max-pixels)")
          << extension;
    }
  }
  EXPECT_EQ(image_header_problem(encoded(".png")), std::nullopt);
  EXPECT_THROW(set_max_image_pixels(0), std::invalid_argument);
  EXPECT_EQ(max_image_pixels(), kDefaultMaxImagePixels);
}

TEST(ImageProbe, OtherFormatsAndDamagedHeadersAreRefusedWithoutQuotingTheBytes) {
  // PNM's header is text: 20 bytes declaring 30000x30000, which OpenCV would allocate.
  EXPECT_EQ(image_header_problem("P6\n30000 30000\n255\n"),
            "not a decodable image (JPEG, PNG, BMP, TIFF, WebP)");
  EXPECT_EQ(image_header_problem(""), "empty");
  const std::pair<std::string, const char*> damaged[] = {
      {"\xFF\xD8SECRET-PASSWORD", "not a complete JPEG header"},
      {"\x89PNG\r\n\x1A\nSECRET-PASSWORD", "not a complete PNG header"},
      {"BMSECRET", "not a complete BMP header"},
      {std::string("II*\0SECRET-PASSWORD", 19), "not a complete TIFF header"},
      {std::string("RIFF\x10\0\0\0WEBPSECRET", 18), "not a complete WebP header"}};
  for (const auto& [bytes, problem] : damaged) {
    EXPECT_EQ(image_header_problem(bytes), problem);
    EXPECT_EQ(decode_error(bytes), problem);
  }
  // A whole header and a cut body: JPEG is decoded strictly, as everywhere else.
  cv::Mat noise(240, 320, CV_8UC3);
  cv::randu(noise, 0, 255);
  std::vector<unsigned char> bytes;
  ASSERT_TRUE(cv::imencode(".jpg", noise, bytes));
  std::string jpeg(bytes.begin(), bytes.end());
  EXPECT_NE(decode_error(jpeg.substr(0, jpeg.size() * 2 / 3)).find("truncated"), std::string::npos);
}

TEST(ImageDecode, OnlyRegularFilesOfAnImageSizeAreRead) {
  test::TempDir dir;
  auto png = dir / "frame.png";
  std::ofstream(png, std::ios::binary) << encoded(".png");
  EXPECT_EQ(read_image_file(png).size(), cv::Size(64, 48));
  // Named like an image, read without end (or, for a FIFO, waited on forever) by a decoder that trusts it.
  auto zero = dir / "zero.jpg";
  std::filesystem::create_symlink("/dev/zero", zero);
  EXPECT_EQ(read_error(zero), "not a regular file");
  auto fifo = dir / "fifo.png";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(read_error(fifo), "not a regular file");
  EXPECT_NE(read_error(dir / "absent.png").find("cannot open"), std::string::npos);
  test::ScopedPixelLimit limit(1000);  // at most 8 bytes a pixel and 1 MiB: 1056576 bytes
  auto big = dir / "big.png";
  std::ofstream(big, std::ios::binary) << std::string(1056577, 'x');
  EXPECT_EQ(read_error(big),
            "larger than 1056576 bytes, the most an image within 1000 pixels (--max-pixels) needs");
}

}  // namespace
}  // namespace sf
