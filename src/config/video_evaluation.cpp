// Runs an algorithm (built by the one builder) through the pipeline over a video and scores what it finds
// against MOT ground truth.
#include <functional>
#include <map>

#include "sightflow/config.hpp"
#include "sightflow/evaluation.hpp"
#include "sightflow/model_pool.hpp"
#include "sightflow/pipeline.hpp"

namespace sf {
namespace {

// Keeps each evaluated frame's detections until the run ends.
class CollectingSink : public Sink {
 public:
  void write(const Result& r) override {
    frames[r.frame] = r.detections;
    pts[r.frame] = r.pts;
    if (auto it = r.values.find("inferred"); it != r.values.end()) {  // motion: frames or crops, or none
      frames_inferred += it->value("frames", int64_t(0));
      pixels_inferred += it->value("pixels", int64_t(0));
    } else {  // no motion model: the whole frame
      frames_inferred += 1;
      pixels_inferred += int64_t(r.image.total());
    }
  }
  std::map<int64_t, std::vector<Detection>> frames;
  std::map<int64_t, double> pts;
  int64_t frames_inferred = 0, pixels_inferred = 0;
};

// Crossings of `lines` by tracked boxes, counted by the lines stage over frames in order (the same rule for
// the ground truth and the tracker).
std::map<std::string, std::pair<int64_t, int64_t>> count_crossings(
    const nlohmann::json& lines, const TrackFrames& tracks, const std::function<double(int64_t)>& pts_of) {
  auto stage = create_stage({"lines", {{"lines", lines}}});
  Result last;
  for (const auto& [frame, boxes] : tracks) {
    Result r;
    r.frame = frame;
    r.pts = pts_of(frame);
    for (const auto& b : boxes) {
      if (b.ignore) continue;
      Detection d;
      d.label = "person";
      d.score = b.score;
      d.box = b.box;
      d.track_id = b.id;
      r.detections.push_back(d);
    }
    stage->process(r, Frame{});
    last = std::move(r);
  }
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  for (const auto& line : lines) {
    std::string name = line.at("name");
    auto counts =
        last.analytics.value("lines", nlohmann::json::object()).value(name, nlohmann::json::object());
    out[name] = {counts.value("in", int64_t(0)), counts.value("out", int64_t(0))};
  }
  return out;
}

}  // namespace

VideoEvalResult evaluate_on_video(const VideoEvalOptions& o) {
  if (o.every < 1) throw std::invalid_argument("--every must be at least 1");
  if (o.iou <= 0 || o.iou > 1) throw std::invalid_argument("--iou must be in (0, 1]");
  TrackFrames tracked_truth = load_mot_tracks_ground_truth(o.ground_truth);
  GroundTruth truth = without_ids(tracked_truth);
  AlgorithmConfig algorithm = o.algorithm;
  if (algorithm.name.empty()) algorithm.name = "eval";
  if (algorithm.classes.empty()) algorithm.classes = {o.label};
  algorithm.schedule = Schedule{1, o.every, 0};
  algorithm.streams.clear();
  build_stages(algorithm);  // a bad stage or profile fails here, before decoding

  PipelineOptions options;
  options.mode = Mode::Offline;
  options.max_frames = o.max_frames;
  Pipeline pipeline(options);
  pipeline.add_stream(o.source);
  ModelPool pool;
  auto algorithm_instance = build_algorithm(algorithm, pool);  // fails here, before decoding, on a bad name
  pipeline.add_algorithm(
      algorithm.name, [&] { return std::move(algorithm_instance); }, algorithm.schedule, {},
      [&] { return build_stages(algorithm); });
  auto sink = std::make_shared<CollectingSink>();
  pipeline.add_sink(sink);
  Stopwatch watch;
  pipeline.run();
  VideoEvalResult result;
  result.seconds = watch.seconds();

  DetectionEvaluator evaluator(o.iou);
  static const std::vector<GroundTruthBox> none;
  std::vector<const std::vector<GroundTruthBox>*> evaluated;
  for (const auto& [frame, detections] : sink->frames) {
    auto it = truth.find(frame);
    evaluated.push_back(it == truth.end() ? &none : &it->second);
  }
  evaluator.set_small_height(small_height_limit(evaluated));
  size_t i = 0;
  for (const auto& [frame, detections] : sink->frames) evaluator.add_frame(detections, *evaluated[i++]);
  result.summary = evaluator.summary();
  result.frames_inferred = sink->frames_inferred;
  result.pixels_inferred = sink->pixels_inferred;
  result.runs_skipped = int64_t(sink->frames.size()) - sink->frames_inferred;
  if (o.score_tracks) {
    MotEvaluator tracking(o.iou);
    static const std::vector<TrackBox> no_truth;
    for (const auto& [frame, detections] : sink->frames) {
      auto& tracks = result.tracks[frame];
      for (const auto& d : detections)
        if (d.track_id) tracks.push_back({*d.track_id, d.box, d.score, false});
      auto it = tracked_truth.find(frame);
      tracking.add_frame(it == tracked_truth.end() ? no_truth : it->second, tracks);
      if (tracks.empty()) result.tracks.erase(frame);
    }
    result.tracking = tracking.summary();
  }
  if (!o.lines.empty()) {
    if (!o.score_tracks) throw std::invalid_argument("lines are counted on tracks: add the track stage");
    // Media time of the truth's frames too (frame_step skips some): the source's frame spacing.
    double spacing = 0.1;
    if (auto streams = pipeline.streams(); !streams.empty() && streams[0].fps > 0)
      spacing = 1.0 / streams[0].fps;
    auto pts_of = [&](int64_t frame) {
      auto it = sink->pts.find(frame);
      return it != sink->pts.end() ? it->second : double(frame) * spacing;
    };
    // The truth over the frames the run decoded (max_frames may end it early).
    int64_t last = sink->frames.empty() ? -1 : sink->frames.rbegin()->first;
    TrackFrames truth_seen(tracked_truth.begin(), tracked_truth.upper_bound(last));
    auto truth_counts = count_crossings(o.lines, truth_seen, pts_of);
    auto track_counts = count_crossings(o.lines, result.tracks, pts_of);
    for (const auto& [name, truth] : truth_counts) {
      auto counted = track_counts[name];
      result.lines.push_back({name, counted.first, counted.second, truth.first, truth.second});
    }
  }
  result.fps = result.seconds > 0 ? double(result.summary.frames) / result.seconds : 0;
  return result;
}

}  // namespace sf
