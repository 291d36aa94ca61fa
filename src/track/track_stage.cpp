#include "track/track_stage.hpp"

#include <functional>
#include <map>
#include <stdexcept>

namespace sf {

namespace {

class TrackStage : public Stage {
 public:
  TrackStage(ByteTrackerOptions options, bool keep_untracked, double hold)
      : tracker_(options), keep_untracked_(keep_untracked), hold_(hold) {}

  void process(Result& result, const Frame&) override {
    // Motion's skip mode repeats the last run's detections without looking: not new sightings, so they
    // must not count as hits (or keep a track alive); they only get the ids their tracks have now.
    const bool carried = is_carried(result);
    if (carried)
      tracker_.relabel(result.detections);
    else
      tracker_.update(result.detections, result.pts);
    // What a tracked result reports is the tracked objects (as ByteTrack and Frigate do): low-score boxes
    // and tentative tracks were evidence for the tracker, not objects, and would inflate counts.
    if (!keep_untracked_)
      std::erase_if(result.detections, [](const Detection& d) { return !d.track_id.has_value(); });
    // A person the detector misses for a moment (occluded, blurred) is still there: hold reports a lost
    // track's predicted box (score 0: not seen) for that long, so counts and crossings do not blink.
    if (hold_ > 0 && !carried) {
      for (const auto& t : tracker_.tracks()) {
        if (!t.lost || t.unseen > hold_) continue;
        Detection d;
        d.label = t.label;
        d.score = 0;
        d.box = t.box;
        d.track_id = t.id;
        result.detections.push_back(std::move(d));
      }
    }
  }

 private:
  ByteTracker tracker_;
  bool keep_untracked_;
  double hold_;
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
  using Reader = std::function<void(const nlohmann::json&, const std::string&)>;
  auto unit = [](float& f) { return Reader([&f](auto& v, auto& k) { read(v, k, f, 0.f, 1.f); }); };
  auto seconds = [](double& d) { return Reader([&d](auto& v, auto& k) { read(v, k, d, 0.0, 1e6); }); };
  const std::map<std::string, Reader> readers = {
      {"high", unit(o.high)},
      {"low", unit(o.low)},
      {"new_track", unit(o.new_track)},
      {"match_iou", unit(o.match_iou)},
      {"low_iou", unit(o.low_iou)},
      {"tentative_iou", unit(o.tentative_iou)},
      {"min_hits", [&](auto& v, auto& k) { read(v, k, o.min_hits, 1, 1000); }},
      {"unsure_hits", [&](auto& v, auto& k) { read(v, k, o.unsure_hits, 0, 1000); }},
      {"max_gap", seconds(o.max_gap)},
      {"tentative_gap", seconds(o.tentative_gap)},
      {"measurement_noise", [&](auto& v, auto& k) { read(v, k, o.noise.measurement, 1e-4, 10.0); }},
      {"position_noise", [&](auto& v, auto& k) { read(v, k, o.noise.position_per_s, 0.0, 100.0); }},
      {"occlusion_iou", unit(o.occlusion_iou)},
      {"occlusion_noise", [&](auto& v, auto& k) { read(v, k, o.occlusion_noise, 1.0, 1000.0); }},
      {"smooth_boxes",
       [&](auto& v, auto& k) {
         if (!v.is_boolean()) throw std::invalid_argument("option '" + k + "' must be true or false");
         o.smooth_boxes = v.template get<bool>();
       }},
      {"velocity_noise", [&](auto& v, auto& k) { read(v, k, o.noise.velocity_per_s, 0.0, 100.0); }},
  };
  for (const auto& [key, value] : options.items()) {
    auto it = readers.find(key);
    if (it == readers.end()) throw std::invalid_argument("unknown option '" + key + "'");
    it->second(value, key);
  }
  if (o.low > o.high) throw std::invalid_argument("option 'low' must not exceed 'high'");
  return o;
}

std::unique_ptr<Stage> make_track_stage(const nlohmann::json& options) {
  nlohmann::json tracker = options;
  bool keep_untracked = false;
  double hold = 0.3;  // seconds: bridges a detector's one- or two-frame misses (bench/RESULTS.md)
  if (options.is_object() && options.contains("keep_untracked")) {
    if (!options["keep_untracked"].is_boolean())
      throw std::invalid_argument("option 'keep_untracked' must be true or false");
    keep_untracked = options["keep_untracked"].get<bool>();
    tracker.erase("keep_untracked");
  }
  if (options.is_object() && options.contains("hold")) {
    read(options["hold"], "hold", hold, 0.0, 60.0);
    tracker.erase("hold");
  }
  return std::make_unique<TrackStage>(track_options_from_json(tracker), keep_untracked, hold);
}

}  // namespace sf
