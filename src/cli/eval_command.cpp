// `sightflow eval`: precision, recall, AP50, count error and fps of a detector against MOT ground truth.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "sightflow/evaluation.hpp"

namespace sf::cli {
namespace {

struct EvalFlags {
  VideoEvalOptions options;
  std::vector<std::string> params;
  std::string motion = "off";
  std::vector<std::string> motion_params;
  bool json = false;
};

int eval(EvalFlags& f) {
  f.options.params = parse_params(f.params);
  f.options.motion.mode = parse_motion_mode(f.motion);
  for (const auto& [name, value] : parse_params(f.motion_params))
    set_motion_option(f.options.motion, name, value);
  validate(f.options.motion);
  auto r = evaluate_on_video(f.options);
  const auto& s = r.summary;
  std::printf("%s on %s, every %d frame(s), IoU %.2f, label '%s'\n", f.options.detector.c_str(),
              f.options.source.c_str(), f.options.every, f.options.iou, f.options.label.c_str());
  std::printf("frames %lld  TP %lld  FP %lld  FN %lld\n", (long long)s.frames, (long long)s.true_positives,
              (long long)s.false_positives, (long long)s.false_negatives);
  std::printf("precision %.3f  recall %.3f  AP50 %.3f  count MAE %.2f  fps %.2f\n", s.precision, s.recall,
              s.average_precision, s.count_mae, r.fps);
  std::printf("motion %s: recall (smallest third) %.3f  frames inferred %lld  pixels inferred %lld\n",
              f.motion.c_str(), s.recall_small, (long long)r.frames_inferred, (long long)r.pixels_inferred);
  if (f.json) {
    nlohmann::ordered_json j{{"detector", f.options.detector},
                             {"precision", s.precision},
                             {"recall", s.recall},
                             {"ap50", s.average_precision},
                             {"count_mae", s.count_mae},
                             {"fps", r.fps},
                             {"frames", s.frames},
                             {"motion", f.motion},
                             {"recall_small", s.recall_small},
                             {"frames_inferred", r.frames_inferred},
                             {"pixels_inferred", r.pixels_inferred}};
    std::cout << j.dump() << std::endl;
  }
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  auto flags = std::make_shared<EvalFlags>();
  auto& o = flags->options;
  o.source = SIGHTFLOW_DEFAULT_VIDEO;
  auto* cmd = app.add_subcommand("eval", "Score a detector's person boxes against MOT ground truth");
  cmd->add_option("--source", o.source, "video to run on")->capture_default_str();
  cmd->add_option("--gt", o.ground_truth, "MOT gt.txt (1-based frames; flag 0 rows ignored)")->required();
  cmd->add_option("--detector", o.detector, "built-in or catalog model (sightflow models)")
      ->capture_default_str();
  cmd->add_option("--param", flags->params, "model parameter NAME=VALUE (repeatable), e.g. input=416");
  cmd->add_option("--every", o.every, "evaluate every Nth frame")->capture_default_str();
  cmd->add_option("--iou", o.iou, "IoU for a match")->capture_default_str();
  cmd->add_option("--label", o.label, "label scored against the ground truth")->capture_default_str();
  cmd->add_option("--min-score", o.min_score, "drop detections scoring lower")->capture_default_str();
  cmd->add_option("--max-frames", o.max_frames, "stop after this many video frames");
  cmd->add_option("--motion", flags->motion,
                  "off: every scheduled frame in full; skip: only when something moves; roi: crops around "
                  "motion (docs/MOTION.md)")
      ->check(CLI::IsMember({"off", "skip", "roi"}))
      ->capture_default_str();
  cmd->add_option("--motion-param", flags->motion_params,
                  "motion option NAME=VALUE (repeatable), e.g. min_crop=160 (docs/MOTION.md)");
  cmd->add_flag("--json", flags->json,
                "end with one JSON line: precision, recall, ap50, count_mae, fps, frames, motion, "
                "recall_small, frames_inferred, pixels_inferred");
  return [flags] { return eval(*flags); };
}

}  // namespace sf::cli
