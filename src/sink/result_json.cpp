#include <cmath>
#include <set>
#include <stdexcept>

#include "sightflow/result.hpp"

namespace sf {

// Boxes are written with 0.1 px resolution and scores with 4 digits: enough for evaluation, compact lines.
// Dividing by a power of ten (not multiplying by 10) gives the double that prints shortest.
static double round_to(double v, double scale) { return std::round(v * scale) / scale; }

nlohmann::ordered_json to_json(const Detection& d) {
  nlohmann::ordered_json box = {round_to(d.box.x, 10), round_to(d.box.y, 10), round_to(d.box.width, 10),
                                round_to(d.box.height, 10)};
  nlohmann::ordered_json item = {{"label", d.label}, {"score", round_to(d.score, 1e4)}, {"box", box}};
  if (d.track_id) item["track_id"] = *d.track_id;
  if (!d.landmarks.empty()) {
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    for (const auto& p : d.landmarks) points.push_back({round_to(p.x, 10), round_to(p.y, 10)});
    item["landmarks"] = points;
  }
  return item;
}

nlohmann::ordered_json to_json(const Result& r) {
  nlohmann::ordered_json detections = nlohmann::ordered_json::array();
  for (const auto& d : r.detections) detections.push_back(to_json(d));
  nlohmann::ordered_json out = {{"stream", r.stream},        {"algo", r.algo},
                                {"frame", r.frame},          {"pts", round_to(r.pts, 1e6)},
                                {"ts", round_to(r.ts, 1e6)}, {"count", r.detections.size()},
                                {"detections", detections}};
  if (!r.labels.empty()) {
    nlohmann::ordered_json labels = nlohmann::ordered_json::array();
    for (const auto& c : r.labels) labels.push_back({{"label", c.label}, {"score", round_to(c.score, 1e4)}});
    out["labels"] = labels;
  }
  if (!r.values.empty()) out["values"] = nlohmann::ordered_json(r.values);
  if (!r.events.empty()) {
    nlohmann::ordered_json events = nlohmann::ordered_json::array();
    for (const auto& e : r.events) events.push_back(to_json(e, r));
    out["events"] = events;
  }
  for (const auto& [key, value] : r.analytics.items()) {
    if (out.contains(key))
      throw std::invalid_argument("a stage's summary '" + key + "' clashes with a result field");
    out[key] = nlohmann::ordered_json(value);
  }
  return out;
}

nlohmann::ordered_json to_json(const Event& e, const Result& r) {
  nlohmann::ordered_json out = {{"stream", r.stream}, {"algo", r.algo}, {"type", e.type}, {"name", e.name}};
  if (e.track_id) out["track_id"] = *e.track_id;
  if (!e.label.empty()) out["label"] = e.label;
  if (!e.direction.empty()) out["direction"] = e.direction;
  if (e.dwell) out["dwell"] = round_to(*e.dwell, 1e3);
  out["frame"] = r.frame;
  out["pts"] = round_to(r.pts, 1e6);
  out["ts"] = round_to(r.ts, 1e6);
  return out;
}

}  // namespace sf

namespace sf {

Event event_from_json(const nlohmann::json& j) {
  try {
    Event e;
    e.type = j.at("type").get<std::string>();
    e.name = j.value("name", "");
    if (j.contains("track_id")) e.track_id = j["track_id"].get<int64_t>();
    e.label = j.value("label", "");
    e.direction = j.value("direction", "");
    if (j.contains("dwell")) e.dwell = j["dwell"].get<double>();
    return e;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not an event object: ") + e.what());
  }
}

Result result_from_json(const nlohmann::json& j) {
  try {
    Result r;
    r.stream = j.at("stream").get<std::string>();
    r.algo = j.at("algo").get<std::string>();
    r.frame = j.at("frame").get<int64_t>();
    r.pts = j.value("pts", 0.0);
    r.ts = j.value("ts", 0.0);
    for (const auto& d : j.value("detections", nlohmann::json::array())) {
      const auto& box = d.at("box");
      Detection detection;
      detection.label = d.at("label").get<std::string>();
      detection.score = d.value("score", 0.f);
      detection.box = {box.at(0).get<float>(), box.at(1).get<float>(), box.at(2).get<float>(),
                       box.at(3).get<float>()};
      if (d.contains("track_id")) detection.track_id = d["track_id"].get<int64_t>();
      for (const auto& p : d.value("landmarks", nlohmann::json::array()))
        detection.landmarks.emplace_back(p.at(0).get<float>(), p.at(1).get<float>());
      r.detections.push_back(std::move(detection));
    }
    for (const auto& c : j.value("labels", nlohmann::json::array()))
      r.labels.push_back({c.at("label").get<std::string>(), 0, c.value("score", 0.f)});
    if (j.contains("values")) r.values = j["values"];
    for (const auto& e : j.value("events", nlohmann::json::array())) r.events.push_back(event_from_json(e));
    static const std::set<std::string> fixed = {"stream", "algo",       "frame",  "pts",    "ts",
                                                "count",  "detections", "labels", "values", "events"};
    for (const auto& [key, value] : j.items())
      if (!fixed.count(key)) r.analytics[key] = value;
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not a result object: ") + e.what());
  }
}

}  // namespace sf
