#pragma once
// The motion mask of one frame against the background: grey, blur, absolute difference, threshold,
// dilate. Pure functions.
#include <opencv2/core/mat.hpp>

namespace sf {

// BGR (or grey) frame -> blurred grey CV_8U, the form the background model learns.
cv::Mat motion_grey(const cv::Mat& frame, int blur);

// 255 where `grey` differs from `background` by more than `threshold`, dilated with a `dilate` x `dilate`
// ellipse (0: none) so that one body's fragments join into one blob.
cv::Mat motion_mask(const cv::Mat& grey, const cv::Mat& background, int threshold, int dilate);

// Fraction of the mask's pixels that are set (before dilation is what callers should pass to judge a
// global change; after dilation overstates it).
double changed_fraction(const cv::Mat& mask);

}  // namespace sf
