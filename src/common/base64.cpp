#include "common/base64.hpp"

#include <openssl/evp.h>

#include <climits>
#include <stdexcept>

namespace sf {

namespace {

bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  if (bytes.size() > size_t(INT_MAX) / 4 * 3) throw std::length_error("base64: input too large");
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + the NUL EVP_EncodeBlock writes
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()));
  out.resize(size_t(n));
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    throw std::invalid_argument("not base64: length " + std::to_string(text.size()) +
                                " is not a multiple of 4");
  if (text.size() > size_t(INT_MAX)) throw std::length_error("base64: input too large");
  size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  for (size_t i = 0; i < text.size() - padding; ++i) {
    if (in_alphabet(text[i])) continue;
    std::string shown = text[i] == '=' ? "'=' before the end"
                        : (unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f
                            ? "byte " + std::to_string((unsigned char)text[i])
                            : "'" + std::string(1, text[i]) + "'";
    throw std::invalid_argument("not base64: " + shown + " at offset " + std::to_string(i));
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), int(text.size()));
  if (n < 0) throw std::invalid_argument("not base64");
  out.resize(size_t(n) - padding);  // EVP_DecodeBlock decodes the padding as zero bytes
  return out;
}

}  // namespace sf
