#pragma once
// Pieces shared by the counting stages (lines, zones): option checks, point lists, the media clock.
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <opencv2/core/types.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sightflow/detection.hpp"
#include "sightflow/result.hpp"

namespace sf::count {

// Throws std::invalid_argument naming the first key of `object` not in `allowed` (`where` prefixes it).
void check_keys(const nlohmann::json& object, std::initializer_list<const char*> allowed,
                const std::string& where);

// Reads [x1,y1,x2,y2,...]: an array of an even number of finite numbers, at least `min_points` points.
std::vector<cv::Point2f> points_from_json(const nlohmann::json& value, size_t min_points,
                                          const std::string& where);
// Reads "x1,y1,x2,y2,..." (the flag form) under the same rules.
std::vector<cv::Point2f> points_from_text(const std::string& text, size_t min_points,
                                          const std::string& where);
// Splits "NAME=rest"; throws when the name or the '=' is missing.
std::pair<std::string, std::string> split_flag(const std::string& text, const std::string& flag,
                                               const std::string& form);

// Optional number options: absent -> fallback; otherwise a finite number >= minimum (> when `strict`).
double number_option(const nlohmann::json& object, const char* key, double fallback, double minimum,
                     bool strict, const std::string& where);
// "labels": ["person", ...] -> the set (empty: every label).
std::set<std::string> labels_option(const nlohmann::json& object, const std::string& where);

// The point of a box that stands on the ground: its bottom centre.
inline cv::Point2f foot_point(const Detection& d) {
  return {d.box.x + d.box.width / 2.f, d.box.y + d.box.height};
}

// Media time that never runs backwards: a source that loops or restarts its pts continues from where it
// was, so dwell times and "not seen for" windows stay meaningful across the jump.
class MediaClock {
 public:
  double operator()(double pts) {
    if (last_ && pts < *last_) offset_ += *last_ - pts;
    last_ = pts;
    return pts + offset_;
  }

 private:
  std::optional<double> last_;
  double offset_ = 0;
};

}  // namespace sf::count
