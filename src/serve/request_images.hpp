#pragma once
// The images of a prediction request: a raw image body (JPEG, PNG, BMP, ...: one image), a JSON array of
// base64 images (client-side batching: N images, N answers), or multipart/form-data with one image per
// part. Anything else is a 400 that says what was wrong and with which image.
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace sf {

struct RequestImages {
  std::vector<cv::Mat> images;
  bool batch = false;  // the answer is a list, one result per image
};

// `parts`: the bodies of the multipart parts when the request is multipart/form-data (else empty).
// Throws ServiceError (400).
RequestImages parse_request_images(const std::string& content_type, const std::string& body,
                                   const std::vector<std::string>& parts);

// One image from its encoded bytes (JPEG with libturbojpeg, strictly; other formats with OpenCV).
// `what` names it in the error ("image 3"). Throws ServiceError (400).
cv::Mat decode_image(const std::string& bytes, const std::string& what);

// Standard base64 (a "data:...;base64," prefix is skipped). Throws ServiceError (400) naming `what`.
std::string decode_base64(const std::string& text, const std::string& what);

}  // namespace sf
