#pragma once
// Moving blobs -> the crops a detector runs on. Pure functions.
#include <opencv2/core/mat.hpp>
#include <vector>

namespace sf {

// Bounding boxes of the mask's outer contours whose box area is at least min_area.
std::vector<cv::Rect> motion_blobs(const cv::Mat& mask, double min_area);

struct ProposalOptions {
  double margin = 0.25;  // padding per side, as a fraction of the blob's larger side
  int min_crop = 160;    // smallest crop height, pixels
  double aspect = 1.0;   // crop width / height
  int max_crop = 352;    // crops are joined only while the joint crop stays this high (0: no limit)
};

// Pads each blob, joins touching ones, grows each to the aspect ratio (and at least min_crop high),
// moves it inside the frame (shrinking only when the frame is smaller), and joins again crops that
// overlap by more than a quarter of the smaller one. Joins stop at max_crop: a crop much larger than the
// model's input would shrink small objects again, so a group spread wider gets several crops (their
// duplicate boxes are merged after inference); a single blob over 1.5 x max_crop high is tiled with
// max_crop crops overlapping by a third. Returns crops inside `frame`.
std::vector<cv::Rect> region_proposals(const std::vector<cv::Rect>& blobs, cv::Size frame,
                                       const ProposalOptions& options);

// `box` grown around its centre to width/height = aspect, at least min_height high, then shifted (not
// cut) to lie inside the frame; cut only where it is larger than the frame.
cv::Rect fit_to_aspect(const cv::Rect& box, cv::Size frame, double aspect, int min_height);

}  // namespace sf
