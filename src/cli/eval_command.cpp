// `sightflow eval`: precision, recall, AP50, count error and fps of a detector against MOT ground truth.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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
  bool track = false;
  std::vector<std::string> track_params;
  std::string mot_out;
};

// NAME=VALUE into the track stage's options: a number when VALUE is one, else a string.
nlohmann::json track_options(const std::vector<std::string>& flags) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& p : flags) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--track-param expects NAME=VALUE, got '" + p + "'");
    std::string name = p.substr(0, eq), value = p.substr(eq + 1);
    const char* begin = value.data();
    const char* end = begin + value.size();
    int64_t integer = 0;
    if (auto [ptr, ec] = std::from_chars(begin, end, integer);
        ec == std::errc() && ptr == end && !value.empty()) {
      options[name] = integer;
      continue;
    }
    char* stop = nullptr;
    double number = value.empty() ? 0 : std::strtod(value.c_str(), &stop);
    if (!value.empty() && stop == value.c_str() + value.size() && std::isfinite(number))
      options[name] = number;
    else
      options[name] = value;
  }
  return options;
}

int eval(EvalFlags& f) {
  f.options.params = parse_params(f.params);
  f.options.motion.mode = parse_motion_mode(f.motion);
  for (const auto& [name, value] : parse_params(f.motion_params))
    set_motion_option(f.options.motion, name, value);
  validate(f.options.motion);
  if (f.track) {
    f.options.stages.push_back({"track", track_options(f.track_params)});
    f.options.score_tracks = true;
  }
  auto r = evaluate_on_video(f.options);
  if (!f.mot_out.empty()) save_mot_tracks(f.mot_out, r.tracks);
  const auto& s = r.summary;
  std::printf("%s on %s, every %d frame(s), IoU %.2f, label '%s'\n", f.options.detector.c_str(),
              f.options.source.c_str(), f.options.every, f.options.iou, f.options.label.c_str());
  std::printf("frames %lld  TP %lld  FP %lld  FN %lld\n", (long long)s.frames, (long long)s.true_positives,
              (long long)s.false_positives, (long long)s.false_negatives);
  std::printf("precision %.3f  recall %.3f  AP50 %.3f  count MAE %.2f  fps %.2f\n", s.precision, s.recall,
              s.average_precision, s.count_mae, r.fps);
  std::printf("motion %s: recall (smallest third) %.3f  frames inferred %lld  pixels inferred %lld\n",
              f.motion.c_str(), s.recall_small, (long long)r.frames_inferred, (long long)r.pixels_inferred);
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
  auto* track = cmd->add_flag("--track", flags->track,
                              "run the track stage after the detector and score its tracks against the "
                              "ground truth's ids (MOTA, IDF1, IDSW, MT/ML)");
  cmd->add_option("--track-param", flags->track_params,
                  "track stage option NAME=VALUE (repeatable; numbers stay numbers)")
      ->needs(track);
  cmd->add_option("--mot-out", flags->mot_out, "write the tracks as MOTChallenge text (1-based frames)")
      ->needs(track);
  cmd->add_flag(
      "--json", flags->json,
      "end with one JSON line: precision, recall, ap50, count_mae, fps, frames, motion, "
      "recall_small, frames_inferred, pixels_inferred (and with --track, tracking: mota, idf1, ...)");
  return [flags] { return eval(*flags); };
}

}  // namespace sf::cli
