#include "motion/motion_mask.hpp"

#include <opencv2/imgproc.hpp>

namespace sf {

cv::Mat motion_grey(const cv::Mat& frame, int blur) {
  cv::Mat grey;
  if (frame.channels() == 3)
    cv::cvtColor(frame, grey, cv::COLOR_BGR2GRAY);
  else
    grey = frame.clone();
  if (blur > 1) cv::GaussianBlur(grey, grey, cv::Size(blur | 1, blur | 1), 0);
  return grey;
}

cv::Mat motion_mask(const cv::Mat& grey, const cv::Mat& background, int threshold, int dilate) {
  cv::Mat diff, mask;
  cv::absdiff(grey, background, diff);
  cv::threshold(diff, mask, threshold, 255, cv::THRESH_BINARY);
  if (dilate > 1)
    cv::dilate(mask, mask, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(dilate, dilate)));
  return mask;
}

double changed_fraction(const cv::Mat& mask) {
  return mask.empty() ? 0.0 : double(cv::countNonZero(mask)) / double(mask.total());
}

}  // namespace sf
