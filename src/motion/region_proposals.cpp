#include "motion/region_proposals.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace sf {

std::vector<cv::Rect> motion_blobs(const cv::Mat& mask, double min_area) {
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  std::vector<cv::Rect> blobs;
  for (const auto& c : contours) {
    cv::Rect box = cv::boundingRect(c);
    if (double(box.area()) >= min_area) blobs.push_back(box);
  }
  return blobs;
}

cv::Rect fit_to_aspect(const cv::Rect& box, cv::Size frame, double aspect, int min_height) {
  double h = std::max<double>({double(box.height), double(box.width) / aspect, double(min_height)});
  double w = h * aspect;
  w = std::min(w, double(frame.width));
  h = std::min(h, double(frame.height));
  double cx = box.x + box.width / 2.0, cy = box.y + box.height / 2.0;
  double x = std::clamp(cx - w / 2, 0.0, frame.width - w);
  double y = std::clamp(cy - h / 2, 0.0, frame.height - h);
  return cv::Rect(int(std::lround(x)), int(std::lround(y)), int(std::lround(w)), int(std::lround(h))) &
         cv::Rect(0, 0, frame.width, frame.height);
}

namespace {

// Joins any two boxes for which `overlapping` holds into their union, until none does.
template <typename Pred>
void join_while(std::vector<cv::Rect>& boxes, Pred overlapping, cv::Size frame, double aspect, int min_h,
                bool reshape) {
  for (bool joined = true; joined;) {
    joined = false;
    for (size_t i = 0; i < boxes.size() && !joined; ++i) {
      for (size_t j = i + 1; j < boxes.size() && !joined; ++j) {
        if (!overlapping(boxes[i], boxes[j])) continue;
        cv::Rect u = boxes[i] | boxes[j];
        boxes[i] = reshape ? fit_to_aspect(u, frame, aspect, min_h) : u;
        boxes.erase(boxes.begin() + long(j));
        joined = true;
      }
    }
  }
}

}  // namespace

std::vector<cv::Rect> region_proposals(const std::vector<cv::Rect>& blobs, cv::Size frame,
                                       const ProposalOptions& o) {
  const cv::Rect whole(0, 0, frame.width, frame.height);
  std::vector<cv::Rect> boxes;
  for (const auto& b : blobs) {
    int pad = int(std::lround(o.margin * std::max(b.width, b.height)));
    cv::Rect padded = cv::Rect(b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad) & whole;
    if (padded.area() > 0) boxes.push_back(padded);
  }
  auto small_enough = [&](const cv::Rect& a, const cv::Rect& b) {
    return o.max_crop <= 0 || fit_to_aspect(a | b, frame, o.aspect, o.min_crop).height <= o.max_crop;
  };
  auto mostly_inside = [](const cv::Rect& a, const cv::Rect& b) {
    return (a & b).area() * 10 >= std::min(a.area(), b.area()) * 9;
  };
  // Padded blobs that touch belong to one crop (a person split by the threshold, a group).
  join_while(
      boxes,
      [&](const cv::Rect& a, const cv::Rect& b) {
        return (a & b).area() > 0 && (small_enough(a, b) || mostly_inside(a, b));
      },
      frame, o.aspect, o.min_crop, false);
  for (auto& b : boxes) b = fit_to_aspect(b, frame, o.aspect, o.min_crop);
  // Shaped crops that overlap a lot would run the detector twice on the same pixels.
  join_while(
      boxes,
      [](const cv::Rect& a, const cv::Rect& b) { return (a & b).area() * 4 > std::min(a.area(), b.area()); },
      frame, o.aspect, o.min_crop, true);
  if (o.max_crop <= 0) return boxes;
  // A blob much larger than max_crop (a crowd, people and their shadows joined by dilation) is covered by
  // tiles of max_crop overlapping by a third, so that anything up to a third of a tile lies whole in one
  // of them (vtest.avi: overlap by half found no more people and inferred 30 % more pixels).
  std::vector<cv::Rect> crops;
  for (const auto& b : boxes) {
    if (b.height <= o.max_crop * 3 / 2) {
      crops.push_back(b);
      continue;
    }
    cv::Rect tile = fit_to_aspect(cv::Rect(0, 0, 1, 1), frame, o.aspect, o.max_crop);
    int step_x = std::max(1, tile.width * 2 / 3), step_y = std::max(1, tile.height * 2 / 3);
    for (int y = b.y;; y += step_y) {
      int ty = std::min(y, b.br().y - tile.height);
      for (int x = b.x;; x += step_x) {
        int tx = std::min(x, b.br().x - tile.width);
        crops.push_back(cv::Rect(std::max(0, tx), std::max(0, ty), tile.width, tile.height) & whole);
        if (x + tile.width >= b.br().x) break;
      }
      if (y + tile.height >= b.br().y) break;
    }
  }
  return crops;
}

}  // namespace sf
