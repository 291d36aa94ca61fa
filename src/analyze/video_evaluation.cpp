// Runs a detector through the pipeline over a video and scores what it finds against MOT ground truth.
#include <map>

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
    if (auto it = r.values.find("inferred"); it != r.values.end()) {
      frames_inferred += it->value("frames", int64_t(0));
      pixels_inferred += it->value("pixels", int64_t(0));
    }
  }
  std::map<int64_t, std::vector<Detection>> frames;
  int64_t frames_inferred = 0, pixels_inferred = 0;
};

}  // namespace

VideoEvalResult evaluate_on_video(const VideoEvalOptions& o) {
  if (o.every < 1) throw std::invalid_argument("--every must be at least 1");
  if (o.iou <= 0 || o.iou > 1) throw std::invalid_argument("--iou must be in (0, 1]");
  TrackFrames tracked_truth = load_mot_tracks_ground_truth(o.ground_truth);
  GroundTruth truth = without_ids(tracked_truth);
  for (const auto& spec : o.stages) create_stage(spec);  // a bad stage fails here, before decoding

  PipelineOptions options;
  options.mode = Mode::Offline;
  options.max_frames = o.max_frames;
  Pipeline pipeline(options);
  pipeline.add_stream(o.source);
  auto pool = std::make_shared<ModelPool>();
  auto model = pool->acquire(o.detector, o.params);  // fails here, before decoding, on a bad name
  pipeline.add_algorithm(
      "eval",
      [&] {
        return std::make_unique<MotionAlgorithm>(std::move(model), o.motion, std::set<std::string>{o.label},
                                                 o.min_score);
      },
      Schedule{1, o.every, 0}, {},
      [&] {
        StageList stages;
        for (const auto& spec : o.stages) stages.push_back(create_stage(spec));
        return stages;
      });
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
  result.fps = result.seconds > 0 ? double(result.summary.frames) / result.seconds : 0;
  return result;
}

}  // namespace sf
