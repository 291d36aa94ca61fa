// `sightflow eval`: precision, recall, AP50, count error and fps of a detector against MOT ground truth.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/algorithm_flags.hpp"
#include "cli/commands.hpp"
#include "cli/source_flags.hpp"
#include "sightflow/evaluation.hpp"

namespace sf::cli {
namespace {

struct EvalFlags {
  VideoEvalOptions options;
  SourceFlags source;
  AlgorithmFlags algorithm;
  bool json = false;
  std::string mot_out;
};

int eval(EvalFlags& f) {
  f.options.source = f.source.source(SIGHTFLOW_DEFAULT_VIDEO);
  f.options.max_frames = f.source.max_frames;
  f.options.algorithm = f.algorithm.config();
  const auto& stages = f.options.algorithm.stages;
  // Tracks are scored whenever something tracks (--track, or lines and zones, which add a tracker).
  f.options.score_tracks =
      std::any_of(stages.begin(), stages.end(), [](const StageSpec& s) { return s.type == "track"; });
  if (!f.mot_out.empty() && !f.options.score_tracks)
    throw std::invalid_argument("--mot-out writes tracks: add --track");
  for (const auto& l : f.algorithm.lines) f.options.lines.push_back(parse_named_points("--line", l));
  auto r = evaluate_on_video(f.options);
  const std::string motion = f.algorithm.motion.empty() ? "off" : f.algorithm.motion;
  if (!f.mot_out.empty()) save_mot_tracks(f.mot_out, r.tracks);
  const auto& s = r.summary;
  std::printf("%s on %s, every %d frame(s), IoU %.2f, label '%s'\n", f.options.algorithm.detector.c_str(),
              f.options.source.c_str(), f.options.every, f.options.iou, f.options.label.c_str());
  std::printf("frames %lld  TP %lld  FP %lld  FN %lld\n", (long long)s.frames, (long long)s.true_positives,
              (long long)s.false_positives, (long long)s.false_negatives);
  std::printf("precision %.3f  recall %.3f  AP50 %.3f  count MAE %.2f  fps %.2f\n", s.precision, s.recall,
              s.average_precision, s.count_mae, r.fps);
  std::printf("motion %s: recall (smallest third) %.3f  frames inferred %lld  pixels inferred %lld\n",
              motion.c_str(), s.recall_small, (long long)r.frames_inferred, (long long)r.pixels_inferred);
  if (r.tracking) {
    const auto& t = *r.tracking;
    std::printf(
        "tracking: MOTA %.3f  IDF1 %.3f  IDSW %lld  precision %.3f  recall %.3f  MT %lld  ML %lld  "
        "(of %lld ids; %lld tracks)\n",
        t.mota, t.idf1, (long long)t.id_switches, t.precision, t.recall, (long long)t.mostly_tracked,
        (long long)t.mostly_lost, (long long)t.num_gt_ids, (long long)t.num_tracks);
    std::printf("tracking: MOTP %.3f  IDP %.3f  IDR %.3f  FRAG %lld  TP %lld  FP %lld  FN %lld\n", t.motp,
                t.idp, t.idr, (long long)t.fragmentations, (long long)t.tp, (long long)t.fp, (long long)t.fn);
  }
  for (const auto& l : r.lines) {
    int64_t truth = l.truth_in + l.truth_out, counted = l.in + l.out;
    std::printf("line %s: in %lld (truth %lld)  out %lld (truth %lld)  total error %.1f %%\n", l.name.c_str(),
                (long long)l.in, (long long)l.truth_in, (long long)l.out, (long long)l.truth_out,
                truth ? 100.0 * double(std::llabs(counted - truth)) / double(truth) : 0.0);
  }
  if (f.json) {
    nlohmann::ordered_json j{{"detector", f.options.algorithm.detector},
                             {"precision", s.precision},
                             {"recall", s.recall},
                             {"ap50", s.average_precision},
                             {"count_mae", s.count_mae},
                             {"fps", r.fps},
                             {"frames", s.frames},
                             {"motion", motion},
                             {"recall_small", s.recall_small},
                             {"frames_inferred", r.frames_inferred},
                             {"pixels_inferred", r.pixels_inferred}};
    if (r.tracking) {
      const auto& t = *r.tracking;
      j["tracking"] = {{"mota", t.mota},
                       {"motp", t.motp},
                       {"idf1", t.idf1},
                       {"idp", t.idp},
                       {"idr", t.idr},
                       {"id_switches", t.id_switches},
                       {"fragmentations", t.fragmentations},
                       {"precision", t.precision},
                       {"recall", t.recall},
                       {"tp", t.tp},
                       {"fp", t.fp},
                       {"fn", t.fn},
                       {"num_gt_ids", t.num_gt_ids},
                       {"num_tracks", t.num_tracks},
                       {"mostly_tracked", t.mostly_tracked},
                       {"mostly_lost", t.mostly_lost},
                       {"frames", t.frames}};
    }
    if (!r.lines.empty()) {
      j["lines"] = nlohmann::ordered_json::object();
      for (const auto& l : r.lines)
        j["lines"][l.name] = {
            {"in", l.in}, {"out", l.out}, {"truth_in", l.truth_in}, {"truth_out", l.truth_out}};
    }
    std::cout << j.dump() << std::endl;
  }
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  auto flags = std::make_shared<EvalFlags>();
  auto& o = flags->options;
  auto* cmd = app.add_subcommand("eval", "Score a detector's person boxes against MOT ground truth");
  flags->source.add_plain_to(*cmd);
  cmd->add_option("--gt", o.ground_truth, "MOT gt.txt (1-based frames; flag 0 rows ignored)")->required();
  flags->algorithm.add_to(*cmd);
  cmd->add_option("--every", o.every, "evaluate every Nth frame")->capture_default_str();
  cmd->add_option("--iou", o.iou, "IoU for a match")->capture_default_str();
  cmd->add_option("--label", o.label, "label scored against the ground truth")->capture_default_str();
  cmd->add_option("--mot-out", flags->mot_out, "write the tracks as MOTChallenge text (1-based frames)");
  cmd->add_flag(
      "--json", flags->json,
      "end with one JSON line: precision, recall, ap50, count_mae, fps, frames, motion, "
      "recall_small, frames_inferred, pixels_inferred (and with --track, tracking: mota, idf1, ...)");
  return [flags] { return eval(*flags); };
}

}  // namespace sf::cli
