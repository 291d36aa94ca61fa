#include "http/request_body.hpp"

#include <httplib.h>

#include <algorithm>

namespace sf {

std::optional<RequestBody> read_request_body(const httplib::Request& req,
                                             const httplib::ContentReader& reader) {
  RequestBody body;
  bool has_body = req.has_header("Content-Length") ||
                  req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
  if (!has_body) return body;
  if (req.is_multipart_form_data()) {
    body.multipart = true;
    std::vector<httplib::MultipartFormData> parts;
    bool read = reader(
        [&](const httplib::MultipartFormData& header) {
          parts.push_back(header);
          return true;
        },
        [&](const char* data, size_t size) {
          parts.back().content.append(data, size);
          return true;
        });
    if (!read) return std::nullopt;
    std::stable_sort(parts.begin(), parts.end(),
                     [](const auto& a, const auto& b) { return a.name < b.name; });
    for (auto& part : parts) body.parts.push_back(std::move(part.content));
    return body;
  }
  bool read = reader([&](const char* data, size_t size) {
    body.bytes.append(data, size);
    return true;
  });
  if (!read) return std::nullopt;
  return body;
}

}  // namespace sf
