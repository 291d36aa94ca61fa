#include "count/count_options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace sf::count {

void check_keys(const nlohmann::json& object, std::initializer_list<const char*> allowed,
                const std::string& where) {
  if (!object.is_object()) throw std::invalid_argument(where + " must be an object");
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    std::string list;
    for (const char* a : allowed) {
      known = known || key == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!known) throw std::invalid_argument(where + ": unknown option '" + key + "' (known: " + list + ")");
  }
}

namespace {

std::vector<cv::Point2f> pair_up(const std::vector<double>& values, size_t min_points,
                                 const std::string& where) {
  if (values.size() % 2 != 0)
    throw std::invalid_argument(where + ": points need an even count of numbers (x,y pairs), got " +
                                std::to_string(values.size()));
  if (values.size() / 2 < min_points)
    throw std::invalid_argument(where + ": points need at least " + std::to_string(min_points) +
                                " x,y pairs, got " + std::to_string(values.size() / 2));
  std::vector<cv::Point2f> points;
  for (size_t i = 0; i < values.size(); i += 2)
    points.emplace_back(static_cast<float>(values[i]), static_cast<float>(values[i + 1]));
  return points;
}

}  // namespace

std::vector<cv::Point2f> points_from_json(const nlohmann::json& value, size_t min_points,
                                          const std::string& where) {
  if (!value.is_array()) throw std::invalid_argument(where + ": points must be an array [x1,y1,x2,y2,...]");
  std::vector<double> numbers;
  for (const auto& v : value) {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw std::invalid_argument(where + ": points must be numbers, got " + v.dump());
    numbers.push_back(v.get<double>());
  }
  return pair_up(numbers, min_points, where);
}

std::vector<cv::Point2f> points_from_text(const std::string& text, size_t min_points,
                                          const std::string& where) {
  std::vector<double> numbers;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(item.c_str(), &end);
    while (end && (*end == ' ' || *end == '\t')) ++end;
    if (item.empty() || end == item.c_str() || *end != '\0' || errno != 0 || !std::isfinite(v))
      throw std::invalid_argument(where + ": '" + item + "' is not a number");
    numbers.push_back(v);
    start = comma + 1;
  }
  return pair_up(numbers, min_points, where);
}

std::pair<std::string, std::string> split_flag(const std::string& text, const std::string& flag,
                                               const std::string& form) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument(flag + " '" + text + "': expected " + form);
  return {text.substr(0, eq), text.substr(eq + 1)};
}

double number_option(const nlohmann::json& object, const char* key, double fallback, double minimum,
                     bool strict, const std::string& where) {
  if (!object.contains(key)) return fallback;
  const auto& v = object.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    throw std::invalid_argument(where + ": " + key + " must be a number, got " + v.dump());
  const double x = v.get<double>();
  if (strict ? !(x > minimum) : !(x >= minimum))
    throw std::invalid_argument(where + ": " + key + " must be " + (strict ? "> " : ">= ") +
                                nlohmann::json(minimum).dump() + ", got " + v.dump());
  return x;
}

std::set<std::string> labels_option(const nlohmann::json& object, const std::string& where) {
  std::set<std::string> labels;
  if (!object.contains("labels")) return labels;
  const auto& v = object.at("labels");
  if (!v.is_array()) throw std::invalid_argument(where + ": labels must be an array of class names");
  for (const auto& l : v) {
    if (!l.is_string() || l.get<std::string>().empty())
      throw std::invalid_argument(where + ": labels must be non-empty strings, got " + l.dump());
    labels.insert(l.get<std::string>());
  }
  return labels;
}

}  // namespace sf::count
