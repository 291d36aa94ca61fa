#pragma once
// The images of a prediction request: a raw image body (JPEG, PNG, BMP, ...: one image, whatever the
// content type), JSON base64 images (client-side batching: N images, N answers in order), or
// multipart/form-data with one image per part. Anything else is a 400 that says what was wrong and with
// which image.
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "http/request_body.hpp"

namespace sf {

struct RequestImages {
  std::vector<cv::Mat> images;
  bool batch = false;  // the answer is a list, one result per image
};

// JSON (application/json): an array `["<b64>", ...]`, an object of them in its own order
// (`{"0": "<b64>", "1": ...}`, TorchServe's client-batching example), or `{"instances": [...]}`; an item
// may be `{"b64": "..."}`. Several multipart parts answer a list, one part its result alone (as
// TorchServe does). Throws ServiceError (400).
RequestImages parse_request_images(const std::string& content_type, const RequestBody& body);

// One image from its encoded bytes (JPEG with libturbojpeg, strictly; other formats with OpenCV).
// `what` names it in the error ("image 3"). Throws ServiceError (400).
cv::Mat decode_image(const std::string& bytes, const std::string& what);

// Standard base64 (a "data:...;base64," prefix is skipped). Throws ServiceError (400) naming `what`.
std::string decode_base64(const std::string& text, const std::string& what);

}  // namespace sf
