// `sightflow dataset capture`: a camera's own frames annotated by a reference model, as a YOLO or COCO
// dataset (src/dataset/dataset.hpp) for `sightflow tune`.
#include <cstdio>

#include "cli/commands.hpp"
#include "dataset/dataset.hpp"
#include "sightflow/model_pool.hpp"
#include "sightflow/motion.hpp"
#include "sightflow/pipeline.hpp"

namespace sf::cli {
namespace {

struct CaptureFlags {
  std::string source = SIGHTFLOW_DEFAULT_VIDEO;
  std::string model, out, format = "yolo", motion = "off";
  std::vector<std::string> params, classes;
  float min_score = 0;
  int every = 1;
  int64_t max_frames = -1;
};

int capture(const CaptureFlags& f) {
  if (f.every < 1) throw std::invalid_argument("--every must be at least 1");
  DatasetInfo info;
  info.dir = f.out;
  info.format = parse_dataset_format(f.format);
  MotionOptions motion;
  motion.mode = parse_motion_mode(f.motion);
  ModelParams params = parse_params(f.params);
  auto pool = std::make_shared<ModelPool>();
  auto model = pool->acquire(f.model, params);  // a bad name fails here, before decoding
  info.class_names = model->info().class_names;
  // The manifest's own "classes" is the class list; the kept classes go under another name.
  info.manifest_fields = {{"source", f.source}, {"reference_model", f.model}, {"params", params},
                          {"every", f.every},   {"motion", f.motion},         {"min_score", f.min_score}};
  if (!f.classes.empty()) info.manifest_fields["kept_classes"] = f.classes;

  PipelineOptions options;
  options.mode = Mode::Offline;
  options.max_frames = f.max_frames;
  Pipeline pipeline(options);
  pipeline.add_stream(f.source);
  std::set<std::string> classes(f.classes.begin(), f.classes.end());
  pipeline.add_algorithm(
      "reference",
      [&]() -> std::unique_ptr<Algorithm> {
        return std::make_unique<MotionAlgorithm>(model, motion, classes, f.min_score);
      },
      Schedule{1, f.every, 0});
  pipeline.add_sink(make_dataset_sink(info));
  pipeline.run();
  auto dataset = load_dataset(f.out);  // read back: what was written is what tune will see
  std::printf("dataset %s (%s): %zu images, %lld boxes from %s on %s\n", f.out.c_str(), f.format.c_str(),
              dataset.images.size(), (long long)dataset.manifest.value("annotation_count", int64_t(0)),
              f.model.c_str(), f.source.c_str());
  return 0;
}

}  // namespace

Command add_dataset_command(CLI::App& app) {
  auto flags = std::make_shared<CaptureFlags>();
  auto& f = *flags;
  auto* dataset = app.add_subcommand("dataset", "Build training data from a camera's own frames");
  dataset->require_subcommand(1);
  auto* cmd = dataset->add_subcommand("capture", "Annotate frames with a reference model; write a dataset");
  cmd->add_option("--source", f.source, "video, URL or device to capture from")->capture_default_str();
  cmd->add_option("--reference-model", f.model, "catalog model that annotates (e.g. yolox-nano)")->required();
  cmd->add_option("--param", f.params, "reference model parameter NAME=VALUE (repeatable), e.g. input=640");
  cmd->add_option("--out", f.out, "dataset folder (created)")->required();
  cmd->add_option("--format", f.format, "yolo (labels/*.txt) or coco (annotations.json)")
      ->check(CLI::IsMember({"yolo", "coco"}))
      ->capture_default_str();
  cmd->add_option("--every", f.every, "keep every Nth frame")->capture_default_str();
  cmd->add_option("--motion", f.motion, "off, skip or roi: how the reference model looks (docs/MOTION.md)")
      ->check(CLI::IsMember({"off", "skip", "roi"}))
      ->capture_default_str();
  cmd->add_option("--classes", f.classes, "keep only these labels");
  cmd->add_option("--min-score", f.min_score, "drop reference boxes scoring lower");
  cmd->add_option("--max-frames", f.max_frames, "stop after this many source frames");
  return [flags] { return capture(*flags); };
}

}  // namespace sf::cli
