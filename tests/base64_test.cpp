// Base64 through OpenSSL (common/base64): RFC 4648's test vectors both ways, every byte value, and strict
// rejection of what OpenSSL alone would let through (padding in the middle, whitespace, bad characters).
#include "common/base64.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace sf {
namespace {

// RFC 4648, section 10.
const std::vector<std::pair<std::string, std::string>> kVectors = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

std::string error_of(const std::string& text) {
  try {
    base64_decode(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Base64, EncodesAndDecodesTheRfcVectors) {
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(base64_encode(plain), encoded) << plain;
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
}

TEST(Base64, RoundTripsEveryByteValueAtEveryPaddingLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += char(i);
  for (size_t cut : {256u, 255u, 254u}) {
    auto part = bytes.substr(0, cut);
    auto encoded = base64_encode(part);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(base64_decode(encoded), part) << "length " << cut;
  }
  EXPECT_EQ(base64_decode("////"), "\xff\xff\xff");
  EXPECT_EQ(base64_decode("+++A"), "\xfb\xef\x80");
}

TEST(Base64, RejectsInvalidInputSayingWhy) {
  EXPECT_NE(error_of("Zg=").find("multiple of 4"), std::string::npos) << error_of("Zg=");
  EXPECT_NE(error_of("Zm9vY").find("multiple of 4"), std::string::npos);
  EXPECT_NE(error_of("Zg=a").find("'=' before the end"), std::string::npos) << error_of("Zg=a");
  EXPECT_NE(error_of("Z===").find("'=' before the end"), std::string::npos) << error_of("Z===");
  EXPECT_NE(error_of("====").find("'='"), std::string::npos) << error_of("====");
  EXPECT_NE(error_of("Zm9v\nYmF").find("byte 10 at offset 4"), std::string::npos) << error_of("Zm9v\nYmF");
  EXPECT_NE(error_of(" Zm9vYmF").find("offset 0"), std::string::npos) << "no whitespace skipping";
  EXPECT_NE(error_of("Zm9v-_8=").find("'-'"), std::string::npos) << "the URL-safe alphabet is another codec";
  EXPECT_NE(error_of("Zm9v\xc3\xa9=="), "");
}

}  // namespace
}  // namespace sf
