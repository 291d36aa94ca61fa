// The images of a prediction request (POST /predictions/MODEL): the body as the inference API hands it
// over. Input: the first byte picks the form ('j': application/json, base64 images; 'm': multipart, the
// parts separated by "\n--part--\n"; anything else: a raw image body), the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_json.hpp"
#include "serve/request_images.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char form = char(data[0]);
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string content_type = "image/jpeg";
  std::vector<std::string> parts;
  if (form == 'j') {
    content_type = "application/json";
  } else if (form == 'm') {
    content_type = "multipart/form-data; boundary=x";
    constexpr std::string_view separator = "\n--part--\n";
    std::string_view rest = body;
    for (;;) {
      auto at = rest.find(separator);
      parts.emplace_back(rest.substr(0, at));
      if (at == std::string_view::npos) break;
      rest.remove_prefix(at + separator.size());
    }
  }
  try {
    auto request = sf::parse_request_images(content_type, body, parts);
    for (const auto& image : request.images)
      if (image.empty()) __builtin_trap();  // an "image" that is none
  } catch (const sf::HttpError&) {
  }
  return 0;
}
