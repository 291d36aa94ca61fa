// `sightflow bench`: the model's own rate (forward passes on one pre-processed frame, in a loop) next to
// the end-to-end rate of an offline `sightflow run` over the same video, measured in one run. Their ratio
// says how well decode, pre/post-processing and sinks hide behind the model.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/algorithm_flags.hpp"
#include "cli/commands.hpp"
#include "cli/source_flags.hpp"
#include "sightflow/config.hpp"
#include "sightflow/model_pool.hpp"

namespace sf::cli {
namespace {

struct BenchFlags {
  SourceFlags source;  // --frames (= --max-frames): frames per stream in the pipeline run
  AlgorithmFlags algorithm;
  int iterations = 20;
  int streams = 1;
  int rounds = 5;
  bool json = false;
};

// Forward passes per second of model time on one frame (pre- and post-processing excluded: the model
// records them as separate stage times).
double model_fps(Model& model, const cv::Mat& frame, int iterations) {
  StageTimes warm;
  for (int i = 0; i < 5; ++i) model.infer(std::span<const cv::Mat>(&frame, 1), &warm);  // allocations, caches
  StageTimes times;
  for (int i = 0; i < iterations; ++i) model.infer(std::span<const cv::Mat>(&frame, 1), &times);
  return times.model > 0 ? iterations / times.model : 0;
}

cv::Mat sample_frame(const std::string& source) {
  auto s = open_source(source, {});
  cv::Mat frame;
  for (int i = 0; i <= 100; ++i) {  // frame 100 when there is one: a busy scene, not a blank lead-in
    auto f = s->read();
    if (!f) break;
    frame = f->image;
  }
  if (frame.empty()) throw std::runtime_error("no frame could be read from " + source);
  return frame;
}

struct PipelineRate {
  double fps = 0;
  std::vector<BatchStats> batches;
};

PipelineRate pipeline_fps(const BenchFlags& f, const AlgorithmConfig& a, ModelPool& pool) {
  RunConfig c;
  c.mode = Mode::Offline;
  c.max_frames = f.source.max_frames;
  for (int i = 0; i < f.streams; ++i) {
    StreamConfig s;
    s.source = f.source.source(SIGHTFLOW_DEFAULT_VIDEO);
    s.options.name = "s" + std::to_string(i);
    c.streams.push_back(s);
  }
  c.algorithms.push_back(a);
  auto out =
      std::filesystem::temp_directory_path() / ("sightflow-bench-" + std::to_string(::getpid()) + ".jsonl");
  c.sinks.set("jsonl", out.string());
  validate(c);
  Pipeline pipeline(pipeline_options(c));
  for (const auto& s : c.streams) pipeline.add_stream(s.source, s.options);
  pipeline.add_algorithm(
      a.name, [&] { return build_algorithm(a, pool); }, a.schedule, {}, [&] { return build_stages(a); });
  pipeline.add_sink(create_sink(*c.sinks.find("jsonl"), {}));
  auto before = pool.stats();
  pipeline.start();  // models built and sources opened before the clock starts
  Stopwatch watch;
  pipeline.wait();
  double seconds = watch.seconds();
  std::filesystem::remove(out);
  int64_t runs = 0;
  for (const auto& [key, counters] : pipeline.metrics().algorithms(steady_now())) runs += counters.runs;
  // This round's passes only: the pool's counters also hold the model loops and earlier rounds.
  auto batches = pool.stats();
  for (size_t i = 0; i < batches.size() && i < before.size(); ++i) {
    batches[i].batches -= before[i].batches;
    batches[i].items -= before[i].items;
  }
  return {seconds > 0 ? double(runs) / seconds : 0, batches};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int bench(const BenchFlags& f) {
  if (f.source.max_frames < 1 || f.iterations < 1 || f.streams < 1 || f.rounds < 1)
    throw std::invalid_argument("--frames, --iterations, --streams and --rounds must be at least 1");
  AlgorithmConfig algorithm = f.algorithm.config();
  const ModelParams& params = algorithm.params;
  const std::string& detector = algorithm.detector;
  const std::string source = f.source.source(SIGHTFLOW_DEFAULT_VIDEO);
  cv::Mat frame = sample_frame(source);
  // One model for the whole benchmark, built and warmed once: the model loops and every pipeline round
  // use the same instance (through the pool), so no round pays for loading or first-pass allocations.
  ModelPool pool;
  auto measure_model = [&] {
    // Released before the pipeline runs: an idle client would make its batches wait.
    auto model = pool.acquire(detector, params);
    return model_fps(*model, frame, f.iterations);
  };
  // Model and pipeline measurements alternate (M P M P ... M); each pipeline run is compared with the
  // mean of the two model measurements around it, and the median of those ratios is reported. On a
  // shared, noisy machine this cancels most of the drift that separate runs would see.
  std::vector<double> models{measure_model()}, pipelines, ratios;
  PipelineRate last;
  for (int r = 0; r < f.rounds; ++r) {
    last = pipeline_fps(f, algorithm, pool);
    models.push_back(measure_model());
    pipelines.push_back(last.fps);
    double around = (models[r] + models[r + 1]) / 2;
    ratios.push_back(around > 0 ? last.fps / around : 0);
  }
  double model_rate = median(models), pipeline_rate = median(pipelines), ratio = median(ratios);
  std::printf("%s on %s (%dx%d), %d stream(s), %lld frames each, %d round(s)\n", detector.c_str(),
              source.c_str(), frame.cols, frame.rows, f.streams, (long long)f.source.max_frames, f.rounds);
  std::printf("model    %8.2f fps  (model time only, median of %zu x %d passes)\n", model_rate, models.size(),
              f.iterations);
  std::printf("pipeline %8.2f fps  (offline run: decode, pre/post-processing, JSONL sink; median)\n",
              pipeline_rate);
  std::printf("ratio    %8.3f   (median of per-round ratios:", ratio);
  for (double x : ratios) std::printf(" %.3f", x);
  std::printf(")\n");
  for (const auto& b : last.batches)
    std::printf("batches  %lld passes, %.2f images per pass (max %d)\n", (long long)b.batches,
                b.batches ? double(b.items) / b.batches : 0, b.max_batch);
  if (f.json) {
    nlohmann::ordered_json j{
        {"detector", detector}, {"model_fps", model_rate}, {"pipeline_fps", pipeline_rate}, {"ratio", ratio}};
    std::cout << j.dump() << std::endl;
  }
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  auto& f = *flags;
  auto* cmd = app.add_subcommand("bench", "Model-only rate vs. end-to-end pipeline rate for one detector");
  f.algorithm.add_model_to(*cmd);
  f.source.max_frames = 100;
  f.source.add_plain_to(*cmd, "--frames,--max-frames");
  cmd->add_option("--iterations", f.iterations, "forward passes per model measurement")
      ->capture_default_str();
  cmd->add_option("--streams", f.streams, "copies of the source run at once (batching across streams)")
      ->capture_default_str();
  cmd->add_option("--rounds", f.rounds, "pipeline runs, each between two model measurements")
      ->capture_default_str();
  cmd->add_flag("--json", f.json, "end with one JSON line: model_fps, pipeline_fps, ratio");
  return [flags] { return bench(*flags); };
}

}  // namespace sf::cli
