#include "count/zone_stage.hpp"

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <set>
#include <stdexcept>

#include "count/count_options.hpp"

namespace sf {
namespace {

class ZoneStage : public Stage {
 public:
  explicit ZoneStage(ZoneCounterOptions options)
      : geometry_(geometry_of(options)), counter_(std::move(options)) {}

  void process(Result& result, const Frame&) override {
    if (!is_carried(result)) {
      auto events = counter_.update(clock_(result.pts), result.detections);
      result.events.insert(result.events.end(), events.begin(), events.end());
    }
    // Merged by name, so two `zones` stages on one algorithm both show.
    auto& zones = result.analytics["zones"];
    if (!zones.is_object()) zones = nlohmann::json::object();
    zones.update(counter_.summary());
    // Where the zones are, so that drawing sinks (video, live view, archive) show them.
    auto& geometry = result.analytics["geometry"]["zones"];
    if (!geometry.is_object()) geometry = nlohmann::json::object();
    geometry.update(geometry_);
  }

 private:
  static nlohmann::json geometry_of(const ZoneCounterOptions& options) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& z : options.zones) {
      auto& points = out[z.name] = nlohmann::json::array();
      for (const auto& p : z.polygon) {
        points.push_back(p.x);
        points.push_back(p.y);
      }
    }
    return out;
  }

  nlohmann::json geometry_;  // {"lawn": [x1, y1, x2, y2, ...]}
  ZoneCounter counter_;
  count::MediaClock clock_;
};

int min_frames_option(const nlohmann::json& object, int fallback, const std::string& where) {
  if (!object.contains("min_frames")) return fallback;
  const auto& v = object.at("min_frames");
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1000000)
    throw std::invalid_argument(where + ": min_frames must be a whole number >= 1, got " + v.dump());
  return static_cast<int>(v.get<int64_t>());
}

void check_polygon(const std::vector<cv::Point2f>& polygon, const std::string& where) {
  if (cv::contourArea(polygon) <= 0)
    throw std::invalid_argument(where + ": its points enclose no area (all on one line?)");
}

}  // namespace

ZoneCounterOptions parse_zone_options(const nlohmann::json& options) {
  count::check_keys(options, {"zones", "loiter", "min_frames", "exit_after", "labels"}, "zones");
  ZoneSpec defaults;
  defaults.loiter = count::number_option(options, "loiter", defaults.loiter, 0, false, "zones");
  defaults.min_frames = min_frames_option(options, defaults.min_frames, "zones");
  defaults.exit_after = count::number_option(options, "exit_after", defaults.exit_after, 0, true, "zones");
  ZoneCounterOptions out;
  out.labels = count::labels_option(options, "zones");
  if (!options.contains("zones") || !options.at("zones").is_array() || options.at("zones").empty())
    throw std::invalid_argument(
        "zones: needs \"zones\": [{\"name\": \"lawn\", \"points\": [x1,y1,x2,y2,x3,y3,...]}, ...]");
  std::set<std::string> names;
  for (const auto& z : options.at("zones")) {
    if (!z.is_object() || !z.contains("name") || !z.at("name").is_string() ||
        z.at("name").get<std::string>().empty())
      throw std::invalid_argument("zones: each zone needs a non-empty \"name\", got " + z.dump());
    ZoneSpec spec = defaults;
    spec.name = z.at("name").get<std::string>();
    const std::string where = "zone '" + spec.name + "'";
    if (!names.insert(spec.name).second) throw std::invalid_argument(where + ": the name is used twice");
    count::check_keys(z, {"name", "points", "loiter", "min_frames", "exit_after"}, where);
    if (!z.contains("points")) throw std::invalid_argument(where + ": needs points [x1,y1,x2,y2,x3,y3,...]");
    spec.polygon = count::points_from_json(z.at("points"), 3, where);
    check_polygon(spec.polygon, where);
    spec.loiter = count::number_option(z, "loiter", defaults.loiter, 0, false, where);
    spec.min_frames = min_frames_option(z, defaults.min_frames, where);
    spec.exit_after = count::number_option(z, "exit_after", defaults.exit_after, 0, true, where);
    out.zones.push_back(std::move(spec));
  }
  return out;
}

std::unique_ptr<Stage> make_zone_stage(const nlohmann::json& options) {
  return std::make_unique<ZoneStage>(parse_zone_options(options));
}

ZoneSpec parse_zone_flag(const std::string& text) {
  const auto [name, rest] = count::split_flag(text, "--zone", "NAME=x1,y1,x2,y2,x3,y3[,...]");
  const std::string where = "--zone " + name;
  ZoneSpec spec;
  spec.name = name;
  spec.polygon = count::points_from_text(rest, 3, where);
  check_polygon(spec.polygon, where);
  return spec;
}

nlohmann::json to_json(const ZoneSpec& zone) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : zone.polygon) {
    points.push_back(p.x);
    points.push_back(p.y);
  }
  return {{"name", zone.name}, {"points", points}};
}

}  // namespace sf
