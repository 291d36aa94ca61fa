#pragma once
// Base64 (RFC 4648: standard alphabet, padded) through OpenSSL's codec, for JSON bodies of images and
// query results' blobs. Pure functions: safe from any thread.
#include <string>
#include <string_view>

namespace sf {

std::string base64_encode(std::string_view bytes);

// Strict: the length must be a multiple of 4, every character in the alphabet, '=' only as one or two
// final characters; no whitespace. Throws std::invalid_argument saying which rule the text breaks (OpenSSL
// alone would read '=' anywhere as zero bits and skip surrounding whitespace).
std::string base64_decode(std::string_view text);

}  // namespace sf
