#include "count/line_counter.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "count/count_options.hpp"

namespace sf {
namespace {

// A tracker that hands out fresh ids faster than forget_after expires them must not grow memory without
// end: past this many tracks the least recently seen are dropped.
constexpr size_t kMaxTracks = 4096;

}  // namespace

LineCounter::LineCounter(LineCounterOptions options) : options_(std::move(options)) {
  for (const auto& l : options_.lines) {
    if (l.a == l.b) throw std::invalid_argument("line '" + l.name + "': its two points are the same");
    if (!(l.band >= 0)) throw std::invalid_argument("line '" + l.name + "': band must be >= 0");
  }
  if (!(options_.forget_after > 0)) throw std::invalid_argument("lines: forget_after must be > 0");
  counts_.resize(options_.lines.size());
}

double LineCounter::signed_distance(const LineSpec& line, cv::Point2f p) {
  const double dx = line.b.x - line.a.x, dy = line.b.y - line.a.y;
  return (dx * (p.y - line.a.y) - dy * (p.x - line.a.x)) / std::hypot(dx, dy);
}

std::vector<Event> LineCounter::update(double time, const std::vector<Detection>& detections) {
  forget(time);  // first, so a track back after a long gap starts afresh instead of counting the gap
  std::vector<Event> events;
  for (const auto& d : detections) {
    if (!d.track_id) continue;
    if (!options_.labels.empty() && !options_.labels.contains(d.label)) continue;
    const cv::Point2f p = count::foot_point(d);
    auto [it, fresh] = tracks_.try_emplace(*d.track_id);
    Track& track = it->second;
    if (fresh) track.lines.resize(options_.lines.size());
    for (size_t i = 0; i < options_.lines.size(); ++i) {
      const LineSpec& line = options_.lines[i];
      LineState& s = track.lines[i];
      const double c = signed_distance(line, p);
      // Remember where the path last met the (infinite) line, as a position along the segment; the side
      // may only flip sightings later, once the track is out of the band.
      if (!fresh && (s.last_c <= 0) != (c <= 0)) {
        const double f = s.last_c / (s.last_c - c);  // fraction of the step from last_point to p
        const cv::Point2f x = track.last_point + (p - track.last_point) * static_cast<float>(f);
        const cv::Point2f ab = line.b - line.a;
        s.crossing_t = (x - line.a).dot(ab) / ab.dot(ab);
      }
      s.last_c = c;
      const Side now = c > line.band ? Side::Positive : c < -line.band ? Side::Negative : s.side;
      if (s.side != Side::Unknown && now != s.side) {
        if (s.crossing_t && *s.crossing_t >= 0 && *s.crossing_t <= 1) {
          const bool in = now == Side::Positive;
          Count& count = counts_[i];
          (in ? count.total.in : count.total.out)++;
          auto& per_label = count.by_label[d.label];
          (in ? per_label.in : per_label.out)++;
          Event e;
          e.type = "line";
          e.name = line.name;
          e.track_id = d.track_id;
          e.label = d.label;
          e.direction = in ? "in" : "out";
          events.push_back(std::move(e));
        }
        s.crossing_t.reset();
      }
      s.side = now;
    }
    track.last_seen = time;
    track.last_point = p;
  }
  return events;
}

void LineCounter::forget(double time) {
  std::erase_if(tracks_, [&](const auto& t) { return time - t.second.last_seen > options_.forget_after; });
  while (tracks_.size() > kMaxTracks) {
    auto oldest = std::min_element(tracks_.begin(), tracks_.end(), [](const auto& x, const auto& y) {
      return x.second.last_seen < y.second.last_seen;
    });
    tracks_.erase(oldest);
  }
}

nlohmann::json LineCounter::summary() const {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < options_.lines.size(); ++i) {
    const Count& c = counts_[i];
    nlohmann::json by_label = nlohmann::json::object();
    for (const auto& [label, t] : c.by_label) by_label[label] = {{"in", t.in}, {"out", t.out}};
    out[options_.lines[i].name] = {{"in", c.total.in}, {"out", c.total.out}, {"by_label", by_label}};
  }
  return out;
}

LineTotals LineCounter::totals(const std::string& line) const {
  for (size_t i = 0; i < options_.lines.size(); ++i)
    if (options_.lines[i].name == line) return counts_[i].total;
  return {};
}

LineTotals LineCounter::totals(const std::string& line, const std::string& label) const {
  for (size_t i = 0; i < options_.lines.size(); ++i) {
    if (options_.lines[i].name != line) continue;
    auto it = counts_[i].by_label.find(label);
    return it == counts_[i].by_label.end() ? LineTotals{} : it->second;
  }
  return {};
}

}  // namespace sf
