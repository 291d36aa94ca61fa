#include "serve/request_images.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "media/jpeg_codec.hpp"
#include "serve/inference_service.hpp"

namespace sf {

namespace {

ServiceError bad_request(const std::string& message) {
  return ServiceError(400, "BadRequestException", message);
}

}  // namespace

std::string decode_base64(const std::string& text, const std::string& what) {
  std::string_view data = text;
  if (data.starts_with("data:")) {
    auto comma = data.find(',');
    if (comma == std::string_view::npos) throw bad_request(what + ": a data URL without ','");
    data.remove_prefix(comma + 1);
  }
  if (data.empty() || data.size() % 4 != 0)
    throw bad_request(what + ": not base64 (length " + std::to_string(data.size()) +
                      " is not a multiple of 4)");
  std::string out(data.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), int(data.size()));
  if (n < 0) throw bad_request(what + ": not base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = data.ends_with("==") ? 2 : data.ends_with("=") ? 1 : 0;
  out.resize(size_t(n) - padding);
  return out;
}

cv::Mat decode_image(const std::string& bytes, const std::string& what) {
  if (bytes.empty()) throw bad_request(what + ": empty");
  if (auto problem = image_header_problem(bytes)) throw bad_request(what + ": " + *problem);
  if (bytes.size() >= 2 && uint8_t(bytes[0]) == 0xFF && uint8_t(bytes[1]) == 0xD8) {
    try {
      return decode_jpeg(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    } catch (const JpegError& e) {
      throw bad_request(what + ": " + e.what());
    }
  }
  cv::Mat raw(1, int(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
  }
  if (image.empty()) throw bad_request(what + ": not a decodable image (JPEG, PNG, BMP, TIFF, WebP)");
  return image;
}

RequestImages parse_request_images(const std::string& content_type, const std::string& body,
                                   const std::vector<std::string>& parts) {
  RequestImages request;
  if (content_type.starts_with("multipart/form-data")) {
    if (parts.empty()) throw bad_request("a multipart request without parts");
    request.batch = true;
    for (size_t i = 0; i < parts.size(); ++i)
      request.images.push_back(decode_image(parts[i], "part " + std::to_string(i)));
    return request;
  }
  if (content_type.starts_with("application/json")) {
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_object() && json.contains("instances")) json = json["instances"];  // TF Serving's shape
    if (!json.is_array() || json.empty())
      throw bad_request("a JSON body must be a non-empty array of base64-encoded images");
    request.batch = true;
    for (size_t i = 0; i < json.size(); ++i) {
      auto what = "image " + std::to_string(i);
      const auto& item = json[i].is_object() && json[i].contains("b64") ? json[i]["b64"] : json[i];
      if (!item.is_string()) throw bad_request(what + ": expected a base64 string");
      request.images.push_back(decode_image(decode_base64(item.get<std::string>(), what), what));
    }
    return request;
  }
  request.images.push_back(decode_image(body, "the request body"));
  return request;
}

}  // namespace sf
