// Replays a detections JSON Lines file (one result per line, as `sightflow run` writes them) through the
// `track` stage (or, with --boxes kalman, the bare ByteTracker's filtered boxes), writes MOTChallenge text
// (frame,id,x,y,w,h,score,-1,-1,-1; 1-based frame) and reports the tracker's cost per frame; with --gt,
// the CLEAR MOT / IDF1 scores and the per-frame count error of what the stage kept. Use:
//   track_bench DETS.jsonl OUT.txt [--step N] [--boxes detection|kalman] [--gt gt.txt] [--options JSON]
// --step N keeps every Nth frame (frame % N == 0), as frame_step does; --options are the stage's options.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sightflow/evaluation.hpp"
#include "sightflow/mot_metrics.hpp"
#include "sightflow/result.hpp"
#include "sightflow/stage.hpp"
#include "track/byte_tracker.hpp"
#include "track/track_stage.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: track_bench DETS.jsonl OUT.txt [--step N] [--boxes detection|kalman] [--gt gt.txt] "
                 "[--options JSON]\n";
    return 2;
  }
  int step = 1;
  std::string gt_path;        // --gt MOT gt.txt: score the tracks (on the replayed frames only)
  bool kalman_boxes = false;  // --boxes kalman: the tracks' filtered boxes instead of the detections'
  nlohmann::json options = nlohmann::json::object();
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--step")
      step = std::stoi(argv[i + 1]);
    else if (flag == "--boxes")
      kalman_boxes = std::string(argv[i + 1]) == "kalman";
    else if (flag == "--gt")
      gt_path = argv[i + 1];
    else if (flag == "--options")
      options = nlohmann::json::parse(argv[i + 1]);
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  std::vector<sf::Result> results;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto r = sf::result_from_json(nlohmann::json::parse(line));
    if (r.frame % step == 0) results.push_back(std::move(r));
  }
  // The bare tracker gives the filtered boxes; the stage is what a run ships (hold, dropping untracked).
  sf::ByteTracker tracker(sf::track_options_from_json(kalman_boxes ? options : nlohmann::json::object()));
  auto stage = kalman_boxes ? nullptr : sf::create_stage({"track", options});
  const sf::Frame no_pixels;
  // Timed over the whole replay, parsing excluded; repeated so short files still give a stable figure.
  double total_ms = 0;
  size_t detections = 0;
  sf::TrackFrames tracks;
  FILE* out = std::fopen(argv[2], "w");
  if (!out) return 1;
  for (auto& r : results) {
    auto start = std::chrono::steady_clock::now();
    if (stage)
      stage->process(r, no_pixels);
    else
      tracker.update(r.detections, r.pts);
    total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    detections += r.detections.size();
    auto& frame_tracks = tracks[r.frame];
    if (kalman_boxes) {
      for (const auto& t : tracker.tracks())
        if (!t.lost && (frame_tracks.push_back({t.id, t.box, 1.f, false}), true))
          std::fprintf(out, "%lld,%lld,%.2f,%.2f,%.2f,%.2f,1,-1,-1,-1\n", (long long)(r.frame + 1),
                       (long long)t.id, t.box.x, t.box.y, t.box.width, t.box.height);
      continue;
    }
    for (const auto& d : r.detections)
      if (d.track_id && (frame_tracks.push_back({*d.track_id, d.box, d.score, false}), true))
        std::fprintf(out, "%lld,%lld,%.2f,%.2f,%.2f,%.2f,%.4f,-1,-1,-1\n", (long long)(r.frame + 1),
                     (long long)*d.track_id, d.box.x, d.box.y, d.box.width, d.box.height, d.score);
  }
  std::fclose(out);
  std::printf("frames %zu, detections %.1f per frame, tracker %.4f ms per frame\n", results.size(),
              results.empty() ? 0.0 : double(detections) / results.size(),
              results.empty() ? 0.0 : total_ms / results.size());
  if (!gt_path.empty()) {
    sf::TrackFrames truth;
    for (auto& [frame, boxes] : sf::load_mot_tracks_ground_truth(gt_path))
      if (tracks.count(frame)) truth[frame] = std::move(boxes);
    const auto m = sf::evaluate_tracks(truth, tracks);
    // Per-frame counts as `eval` scores them: what the stage kept against the counted truth boxes.
    sf::DetectionEvaluator counts;
    const auto boxes = sf::load_mot_ground_truth(gt_path);
    const std::vector<sf::GroundTruthBox> none;
    for (const auto& r : results) {
      auto it = boxes.find(r.frame);
      counts.add_frame(r.detections, it == boxes.end() ? none : it->second);
    }
    if (stage) std::printf("count MAE %.4f\n", counts.summary().count_mae);
    std::printf("MOTA %.4f IDF1 %.4f IDSW %lld FP %lld FN %lld GT %lld tracks %lld\n", m.mota, m.idf1,
                (long long)m.id_switches, (long long)m.fp, (long long)m.fn, (long long)m.num_gt,
                (long long)m.num_tracks);
  }
  return 0;
}
