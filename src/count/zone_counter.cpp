#include "count/zone_counter.hpp"

#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "count/count_options.hpp"

namespace sf {

ZoneCounter::ZoneCounter(ZoneCounterOptions options) : labels_(std::move(options.labels)) {
  for (auto& z : options.zones) {
    if (z.polygon.size() < 3) throw std::invalid_argument("zone '" + z.name + "': needs at least 3 points");
    if (cv::contourArea(z.polygon) <= 0)
      throw std::invalid_argument("zone '" + z.name + "': its polygon has no area");
    if (z.min_frames < 1) throw std::invalid_argument("zone '" + z.name + "': min_frames must be >= 1");
    if (!(z.exit_after > 0)) throw std::invalid_argument("zone '" + z.name + "': exit_after must be > 0");
    if (!(z.loiter >= 0)) throw std::invalid_argument("zone '" + z.name + "': loiter must be >= 0");
    zones_.push_back({std::move(z), {}});
  }
}

Event ZoneCounter::event(const char* type, const Zone& zone, int64_t id, const Track& track) const {
  Event e;
  e.type = type;
  e.name = zone.spec.name;
  e.track_id = id;
  e.label = track.label;
  return e;
}

std::vector<Event> ZoneCounter::update(double time, const std::vector<Detection>& detections) {
  std::vector<Event> events;
  for (auto& zone : zones_) {
    // Tracks that vanished, first (a tracker may reuse an id after a long gap): those inside exit as of
    // their last sighting; the rest are just forgotten.
    for (auto it = zone.tracks.begin(); it != zone.tracks.end();) {
      if (time - it->second.last_seen <= zone.spec.exit_after) {
        ++it;
        continue;
      }
      if (it->second.counted) {
        Event e = event("exit", zone, it->first, it->second);
        e.dwell = it->second.last_seen - it->second.first_inside;
        events.push_back(std::move(e));
      }
      it = zone.tracks.erase(it);
    }
    std::set<int64_t> seen;
    for (const auto& d : detections) {
      if (!d.track_id || !seen.insert(*d.track_id).second) continue;
      if (!labels_.empty() && !labels_.contains(d.label)) continue;
      const int64_t id = *d.track_id;
      const bool inside = cv::pointPolygonTest(zone.spec.polygon, count::foot_point(d), false) >= 0;
      auto it = zone.tracks.find(id);
      if (!inside) {
        if (it == zone.tracks.end()) continue;
        if (it->second.counted) {
          Event e = event("exit", zone, id, it->second);
          e.dwell = time - it->second.first_inside;
          events.push_back(std::move(e));
        }
        zone.tracks.erase(it);
        continue;
      }
      if (it == zone.tracks.end()) {
        it = zone.tracks.emplace(id, Track{}).first;
        it->second.first_inside = time;
      }
      Track& t = it->second;
      t.label = d.label;
      t.last_seen = time;
      ++t.streak;
      if (!t.counted && t.streak >= zone.spec.min_frames) {
        t.counted = true;
        events.push_back(event("enter", zone, id, t));
      }
      if (t.counted && !t.loitered && zone.spec.loiter > 0 && time - t.first_inside >= zone.spec.loiter) {
        t.loitered = true;
        Event e = event("loiter", zone, id, t);
        e.dwell = time - t.first_inside;
        events.push_back(std::move(e));
      }
    }
  }
  return events;
}

nlohmann::json ZoneCounter::summary() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& zone : zones_) {
    int64_t n = 0;
    nlohmann::json by_label = nlohmann::json::object();
    for (const auto& [id, t] : zone.tracks) {
      if (!t.counted) continue;
      ++n;
      by_label[t.label] = by_label.value(t.label, 0) + 1;
    }
    out[zone.spec.name] = {{"count", n}, {"by_label", by_label}};
  }
  return out;
}

int64_t ZoneCounter::count(const std::string& name) const {
  for (const auto& zone : zones_) {
    if (zone.spec.name != name) continue;
    int64_t n = 0;
    for (const auto& [id, t] : zone.tracks) n += t.counted;
    return n;
  }
  return 0;
}

size_t ZoneCounter::tracked() const {
  size_t n = 0;
  for (const auto& zone : zones_) n += zone.tracks.size();
  return n;
}

}  // namespace sf
