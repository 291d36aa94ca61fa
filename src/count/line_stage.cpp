#include "count/line_stage.hpp"

#include <set>
#include <stdexcept>

#include "count/count_options.hpp"

namespace sf {
namespace {

class LineStage : public Stage {
 public:
  explicit LineStage(LineCounterOptions options)
      : geometry_(geometry_of(options)), counter_(std::move(options)) {}

  void process(Result& result, const Frame&) override {
    if (!is_carried(result)) {
      auto events = counter_.update(clock_(result.pts), result.detections);
      result.events.insert(result.events.end(), events.begin(), events.end());
    }
    // Merged by name, so two `lines` stages on one algorithm both show.
    auto& lines = result.analytics["lines"];
    if (!lines.is_object()) lines = nlohmann::json::object();
    lines.update(counter_.summary());
    // Where the lines are, so that drawing sinks (video, live view, archive) show them.
    auto& geometry = result.analytics["geometry"]["lines"];
    if (!geometry.is_object()) geometry = nlohmann::json::object();
    geometry.update(geometry_);
  }

 private:
  static nlohmann::json geometry_of(const LineCounterOptions& options) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& l : options.lines) out[l.name] = {l.a.x, l.a.y, l.b.x, l.b.y};
    return out;
  }

  nlohmann::json geometry_;  // {"door": [x1, y1, x2, y2]}
  LineCounter counter_;
  count::MediaClock clock_;
};

}  // namespace

LineCounterOptions parse_line_options(const nlohmann::json& options) {
  count::check_keys(options, {"lines", "band", "forget_after", "labels"}, "lines");
  LineCounterOptions out;
  const double band = count::number_option(options, "band", 10, 0, false, "lines");
  out.forget_after = count::number_option(options, "forget_after", out.forget_after, 0, true, "lines");
  out.labels = count::labels_option(options, "lines");
  if (!options.contains("lines") || !options.at("lines").is_array() || options.at("lines").empty())
    throw std::invalid_argument(
        "lines: needs \"lines\": [{\"name\": \"door\", \"points\": [x1,y1,x2,y2]}, ...]");
  std::set<std::string> names;
  for (const auto& l : options.at("lines")) {
    if (!l.is_object() || !l.contains("name") || !l.at("name").is_string() ||
        l.at("name").get<std::string>().empty())
      throw std::invalid_argument("lines: each line needs a non-empty \"name\", got " + l.dump());
    LineSpec spec;
    spec.name = l.at("name").get<std::string>();
    const std::string where = "line '" + spec.name + "'";
    if (!names.insert(spec.name).second) throw std::invalid_argument(where + ": the name is used twice");
    count::check_keys(l, {"name", "points", "band"}, where);
    if (!l.contains("points")) throw std::invalid_argument(where + ": needs points [x1,y1,x2,y2]");
    const auto points = count::points_from_json(l.at("points"), 2, where);
    if (points.size() != 2)
      throw std::invalid_argument(where + ": points must be exactly [x1,y1,x2,y2], got " +
                                  std::to_string(points.size()) + " points");
    if (points[0] == points[1]) throw std::invalid_argument(where + ": its two points are the same");
    spec.a = points[0];
    spec.b = points[1];
    spec.band = count::number_option(l, "band", band, 0, false, where);
    out.lines.push_back(spec);
  }
  return out;
}

std::unique_ptr<Stage> make_line_stage(const nlohmann::json& options) {
  return std::make_unique<LineStage>(parse_line_options(options));
}

LineSpec parse_line_flag(const std::string& text) {
  const auto [name, rest] = count::split_flag(text, "--line", "NAME=x1,y1,x2,y2");
  const std::string where = "--line " + name;
  const auto points = count::points_from_text(rest, 2, where);
  if (points.size() != 2)
    throw std::invalid_argument(where + ": expected exactly x1,y1,x2,y2, got " +
                                std::to_string(points.size()) + " points");
  if (points[0] == points[1]) throw std::invalid_argument(where + ": its two points are the same");
  LineSpec spec;
  spec.name = name;
  spec.a = points[0];
  spec.b = points[1];
  return spec;
}

nlohmann::json to_json(const LineSpec& line) {
  return {{"name", line.name}, {"points", {line.a.x, line.a.y, line.b.x, line.b.y}}};
}

}  // namespace sf
