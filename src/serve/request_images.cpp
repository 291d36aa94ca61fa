#include "serve/request_images.hpp"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>

#include "common/base64.hpp"
#include "media/jpeg_codec.hpp"
#include "serve/inference_service.hpp"

namespace sf {

namespace {

ServiceError bad_request(const std::string& message) {
  return ServiceError(400, "BadRequestException", message);
}

// An array's items, or an object's: by number when every key is one ("0".."N-1", so "10" follows "9"),
// else in the order written.
std::vector<std::pair<std::string, const nlohmann::ordered_json*>> ordered_items(
    const nlohmann::ordered_json& json) {
  std::vector<std::pair<std::string, const nlohmann::ordered_json*>> items;
  for (const auto& [key, value] : json.items()) items.emplace_back(key, &value);
  auto number = [](const std::string& key) -> std::optional<unsigned long> {
    if (key.empty() || key.size() > 9 || key.find_first_not_of("0123456789") != std::string::npos) return {};
    return std::stoul(key);
  };
  if (json.is_object() && std::all_of(items.begin(), items.end(), [&](auto& i) { return number(i.first); }))
    std::stable_sort(items.begin(), items.end(),
                     [&](const auto& a, const auto& b) { return *number(a.first) < *number(b.first); });
  return items;
}

}  // namespace

std::string decode_base64(const std::string& text, const std::string& what) {
  std::string_view data = text;
  if (data.starts_with("data:")) {
    auto comma = data.find(',');
    if (comma == std::string_view::npos) throw bad_request(what + ": a data URL without ','");
    data.remove_prefix(comma + 1);
  }
  try {
    return base64_decode(data);
  } catch (const std::invalid_argument& e) {
    throw bad_request(what + ": " + e.what());
  }
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

RequestImages parse_request_images(const std::string& content_type, const RequestBody& body) {
  RequestImages request;
  if (body.multipart) {
    if (body.parts.empty()) throw bad_request("a multipart request without parts");
    request.batch = body.parts.size() > 1;
    for (size_t i = 0; i < body.parts.size(); ++i)
      request.images.push_back(decode_image(body.parts[i], "part " + std::to_string(i)));
    return request;
  }
  if (body.bytes.empty())
    throw bad_request(
        "the request has no image: send one as the body (curl -T FILE URL, or curl "
        "--data-binary @FILE URL)");
  if (content_type.starts_with("application/json")) {
    // Ordered: an object keeps the order it was written in (see ordered_items).
    auto json = nlohmann::ordered_json::parse(body.bytes, nullptr, false);
    if (json.is_object() && json.contains("instances")) json = json["instances"];  // TF Serving's shape
    if (!(json.is_array() || json.is_object()) || json.empty())
      throw bad_request(
          "a JSON body must hold base64-encoded images: a non-empty array, or an object of them "
          "({\"0\": \"<base64>\", \"1\": ...})");
    request.batch = true;
    for (const auto& [key, value] : ordered_items(json)) {
      auto what = "image " + (json.is_object() ? "'" + key + "'" : key);
      const auto& item = value->is_object() && value->contains("b64") ? (*value)["b64"] : *value;
      if (!item.is_string()) throw bad_request(what + ": expected a base64 string");
      request.images.push_back(decode_image(decode_base64(item.get<std::string>(), what), what));
    }
    return request;
  }
  request.images.push_back(decode_image(body.bytes, "the request body"));
  return request;
}

}  // namespace sf
