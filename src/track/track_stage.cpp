#include "track/track_stage.hpp"

#include <stdexcept>

namespace sf {

namespace {

class TrackStage : public Stage {
 public:
  explicit TrackStage(ByteTrackerOptions options) : tracker_(options) {}

  void process(Result& result, const Frame&) override {
    // Motion's skip mode repeats the last run's detections without looking: not new sightings, so they
    // must not count as hits (or keep a track alive); they only get the ids their tracks have now.
    const auto motion = result.values.find("motion");
    const bool carried =
        motion != result.values.end() && motion->is_object() && motion->value("carried", false);
    if (carried)
      tracker_.relabel(result.detections);
    else
      tracker_.update(result.detections, result.pts);
  }

 private:
  ByteTracker tracker_;
};

template <typename T>
void read(const nlohmann::json& value, const std::string& key, T& out, T least, T most) {
  if (!value.is_number()) throw std::invalid_argument("option '" + key + "' must be a number");
  const T v = value.get<T>();
  if (!(v >= least && v <= most))
    throw std::invalid_argument("option '" + key + "' out of range: " + value.dump());
  out = v;
}

}  // namespace

ByteTrackerOptions track_options_from_json(const nlohmann::json& options) {
  ByteTrackerOptions o;
  for (const auto& [key, value] : options.items()) {
    if (key == "high")
      read(value, key, o.high, 0.f, 1.f);
    else if (key == "low")
      read(value, key, o.low, 0.f, 1.f);
    else if (key == "new_track")
      read(value, key, o.new_track, 0.f, 1.f);
    else if (key == "match_iou")
      read(value, key, o.match_iou, 0.f, 1.f);
    else if (key == "low_iou")
      read(value, key, o.low_iou, 0.f, 1.f);
    else if (key == "tentative_iou")
      read(value, key, o.tentative_iou, 0.f, 1.f);
    else if (key == "min_hits")
      read(value, key, o.min_hits, 1, 1000);
    else if (key == "max_gap")
      read(value, key, o.max_gap, 0.0, 1e6);
    else if (key == "tentative_gap")
      read(value, key, o.tentative_gap, 0.0, 1e6);
    else
      throw std::invalid_argument("unknown option '" + key + "'");
  }
  if (o.low > o.high) throw std::invalid_argument("option 'low' must not exceed 'high'");
  return o;
}

std::unique_ptr<Stage> make_track_stage(const nlohmann::json& options) {
  return std::make_unique<TrackStage>(track_options_from_json(options));
}

}  // namespace sf
