#include "bus/stage_input.hpp"

#include <stdexcept>

namespace sf {

// nlohmann writes doubles with max_digits10 digits, so every double (and every float widened to one)
// reads back as the same value.
std::string stage_input_json(const Result& r) {
  nlohmann::json detections = nlohmann::json::array();
  for (const auto& d : r.detections) {
    nlohmann::json landmarks = nlohmann::json::array();
    for (const auto& p : d.landmarks) landmarks.push_back({double(p.x), double(p.y)});
    detections.push_back({d.label, d.class_id, double(d.score), double(d.box.x), double(d.box.y),
                          double(d.box.width), double(d.box.height), landmarks});
  }
  nlohmann::json labels = nlohmann::json::array();
  for (const auto& c : r.labels) labels.push_back({c.label, c.class_id, double(c.score)});
  return nlohmann::json{
      {"frame", r.frame},         {"pts", r.pts},     {"ts", r.ts},        {"capture_ts", r.capture_ts},
      {"detections", detections}, {"labels", labels}, {"values", r.values}}
      .dump();
}

Result stage_input_from_json(const std::string& text, const std::string& stream, const std::string& algo) {
  try {
    auto j = nlohmann::json::parse(text);
    Result r;
    r.stream = stream;
    r.algo = algo;
    r.frame = j.at("frame").get<int64_t>();
    r.pts = j.at("pts").get<double>();
    r.ts = j.at("ts").get<double>();
    r.capture_ts = j.at("capture_ts").get<double>();
    for (const auto& d : j.at("detections")) {
      Detection detection;
      detection.label = d.at(0).get<std::string>();
      detection.class_id = d.at(1).get<int>();
      detection.score = float(d.at(2).get<double>());
      detection.box = {float(d.at(3).get<double>()), float(d.at(4).get<double>()),
                       float(d.at(5).get<double>()), float(d.at(6).get<double>())};
      for (const auto& p : d.at(7))
        detection.landmarks.emplace_back(float(p.at(0).get<double>()), float(p.at(1).get<double>()));
      r.detections.push_back(std::move(detection));
    }
    for (const auto& c : j.at("labels"))
      r.labels.push_back({c.at(0).get<std::string>(), c.at(1).get<int>(), float(c.at(2).get<double>())});
    r.values = j.at("values");
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not a stage input: ") + e.what());
  }
}

}  // namespace sf
