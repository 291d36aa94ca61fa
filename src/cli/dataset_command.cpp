// `sightflow dataset capture`: a camera's own frames annotated by a reference model, as a YOLO or COCO
// dataset (src/dataset/dataset.hpp) for `sightflow tune`.
#include <cstdio>

#include "cli/algorithm_flags.hpp"
#include "cli/commands.hpp"
#include "cli/run_outcome.hpp"
#include "cli/source_flags.hpp"
#include "dataset/dataset.hpp"
#include "sightflow/config.hpp"
#include "sightflow/model_pool.hpp"
#include "sightflow/pipeline.hpp"

namespace sf::cli {
namespace {

struct CaptureFlags {
  SourceFlags source;
  AlgorithmFlags reference;
  std::string out, format = "yolo";
  int every = 1;
  int fill_gaps = -1;  // -1: 3 with --track, else 0
};

int capture(const CaptureFlags& f) {
  if (f.every < 1) throw std::invalid_argument("--every must be at least 1");
  const bool tracked = f.reference.track || !f.reference.track_params.empty();
  if (f.fill_gaps > 0 && !tracked) throw std::invalid_argument("--fill-gaps needs --track");
  DatasetInfo info;
  info.dir = f.out;
  info.format = parse_dataset_format(f.format);
  info.fill_gaps = tracked ? (f.fill_gaps < 0 ? 3 : f.fill_gaps) : 0;
  // Tracking as a label cleaner: only tracked objects are labelled (a one-image flicker never becomes a
  // track), and a track's short gaps are filled by the sink between two sightings rather than held
  // forward by the tracker (a held box goes on after a person has left): hold 0 unless given.
  AlgorithmFlags labeller = f.reference;
  if (tracked) {
    labeller.track = true;
    if (!option_flags(labeller.track_params, "--track-param").contains("hold"))
      labeller.track_params.push_back("hold=0");
  }
  AlgorithmConfig reference = labeller.config();
  reference.name = "reference";
  reference.schedule = Schedule{1, f.every, 0};
  auto streams = f.source.streams(SIGHTFLOW_DEFAULT_VIDEO);
  ModelPool pool;
  auto algorithm = build_algorithm(reference, pool);  // a bad name fails here, before decoding
  info.class_names = pool.acquire(reference.detector, reference.params)->info().class_names;
  // The manifest's own "classes" is the class list; the kept classes go under another name.
  info.manifest_fields = {
      {"source", streams[0].source},
      {"reference_model", reference.detector},
      {"params", reference.params},
      {"every", f.every},
      {"motion", f.reference.motion.empty() ? "off" : f.reference.motion},
      {"min_score", reference.min_score},
      {"track", tracked ? option_flags(labeller.track_params, "--track-param") : nlohmann::json(false)},
      {"fill_gaps", info.fill_gaps}};
  if (!reference.classes.empty()) info.manifest_fields["kept_classes"] = reference.classes;

  PipelineOptions options;
  options.mode = Mode::Offline;
  options.max_frames = f.source.max_frames;
  Pipeline pipeline(options);
  pipeline.add_stream(streams[0].source, streams[0].options);
  pipeline.add_algorithm(
      reference.name, [&] { return std::move(algorithm); }, reference.schedule, {},
      [&] { return build_stages(reference); });
  pipeline.add_sink(make_dataset_sink(info));
  pipeline.run();
  if (auto failed = every_run_failed(pipeline.metrics()); !failed.empty()) {
    std::fprintf(stderr, "sightflow: error: %s\n", failed.c_str());
    return kExitEveryRunFailed;
  }
  auto dataset = load_dataset(f.out);  // read back: what was written is what tune will see
  std::printf("dataset %s (%s): %zu images, %lld boxes (%lld filled in) from %s on %s\n", f.out.c_str(),
              f.format.c_str(), dataset.images.size(),
              (long long)dataset.manifest.value("annotation_count", int64_t(0)),
              (long long)dataset.manifest.value("filled_count", int64_t(0)), reference.detector.c_str(),
              streams[0].source.c_str());
  return 0;
}

}  // namespace

Command add_dataset_command(CLI::App& app) {
  auto flags = std::make_shared<CaptureFlags>();
  auto& f = *flags;
  auto* dataset = app.add_subcommand("dataset", "Build training data from a camera's own frames");
  dataset->require_subcommand(1);
  auto* cmd = dataset->add_subcommand("capture", "Annotate frames with a reference model; write a dataset");
  f.source.add_to(*cmd, false);
  f.reference
      .add_model_to(*cmd, "catalog model that annotates (e.g. yolox-nano)", "--detector,--reference-model")
      ->required();
  cmd->add_option("--out", f.out, "dataset folder (created)")->required();
  cmd->add_option("--format", f.format, "yolo (labels/*.txt) or coco (annotations.json)")
      ->check(CLI::IsMember({"yolo", "coco"}))
      ->capture_default_str();
  cmd->add_option("--every", f.every, "keep every Nth frame")->capture_default_str();
  cmd->add_flag("--track", f.reference.track,
                "label only tracked objects (no one-image flickers) and fill their short gaps");
  cmd->add_option("--track-param", f.reference.track_params, "tracker option NAME=VALUE (repeatable)");
  cmd->add_option("--fill-gaps", f.fill_gaps,
                  "with --track: a track missed on up to N kept images between two sightings gets "
                  "interpolated boxes there (default 3; 0: off)");
  return [flags] { return capture(*flags); };
}

}  // namespace sf::cli
