#pragma once
// A run described as data: streams, algorithms with schedules and parameters, sinks. Read from YAML
// (`sightflow run --config FILE`) or assembled from command-line flags; both build the same Pipeline.
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sightflow/model.hpp"
#include "sightflow/model_pool.hpp"
#include "sightflow/motion.hpp"
#include "sightflow/pipeline.hpp"
#include "sightflow/schedule.hpp"
#include "sightflow/sink.hpp"
#include "sightflow/source.hpp"
#include "sightflow/stage.hpp"
#include "sightflow/store.hpp"

namespace sf {

// A bad configuration; what() says where (file:line) and which field.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StreamConfig {
  std::string source;
  SourceOptions options;
};

struct AlgorithmConfig {
  std::string name;
  std::string detector = "hog";
  ModelParams params;
  std::set<std::string> classes;  // keep only these labels (all when empty)
  float min_score = 0.f;
  Schedule schedule;
  std::vector<std::string> streams;  // all streams when empty
  MotionOptions motion;              // off: every scheduled frame in full (docs/MOTION.md)
  std::string profile;               // camera profile file from `sightflow tune` (empty: none)
  std::vector<StageSpec> stages;     // analysis after the detector, in order (track, lines, zones, ...)
};

// The run's sinks, in order: each a registered type with its options (sightflow/sink.hpp). YAML's
// `sinks:` and the flags (--out, --events-out, --mot-out, --video-out, --db, --archive, --webhook) fill
// the same list; populate() builds each through the sink registry.
struct SinkConfig {
  std::vector<SinkSpec> specs;

  const SinkSpec* find(const std::string& type) const;  // null when absent
  // Replaces the options of `type` (keeping its place) or adds it at the end.
  void set(const std::string& type, nlohmann::json options);
  void erase(const std::string& type);
  // The options of `type` as an object (a short form `VALUE` read as {short_key: VALUE}); {} when absent.
  nlohmann::json object_options(const std::string& type, const std::string& short_key) const;
};

struct RunConfig {
  Mode mode = Mode::Offline;
  int64_t max_frames = -1;
  double stats_interval = 5.0;  // seconds between live stats lines in real-time mode (0: off)
  int64_t max_pixels = 0;       // YAML max_pixels: the largest image or frame decoded (0: --max-pixels)
  std::vector<StreamConfig> streams;
  std::vector<AlgorithmConfig> algorithms;
  SinkConfig sinks;
};

RunConfig parse_run_config(const std::string& yaml_text, const std::string& origin = "config");
RunConfig load_run_config(const std::string& path);

// Semantic checks shared by YAML and flags (names unique, schedules valid, streams referenced exist,
// sinks known with options their readers accept).
void validate(const RunConfig& config);

// The one way an algorithm's description becomes what runs (run, YAML, the HTTP API, worker, replay,
// eval, dataset, bench all come here). The detector ("none": NoopAlgorithm) with its motion mode, sharing
// models through `pool`; the profile lowers the model's score threshold to what it may keep. Throws
// ConfigError naming the algorithm.
std::unique_ptr<Algorithm> build_algorithm(const AlgorithmConfig& algorithm, ModelPool& pool);
// Its stages (the profile first, then `stages`), fresh for one stream. Throws ConfigError.
StageList build_stages(const AlgorithmConfig& algorithm);
// What the builder gives the model and the stages (for tests and reports): the params with the score
// threshold lowered to what a profile or the tracker's `low` must see (a catalog model whose params set
// none), and the stages with the catalog's tracker defaults for the detector under the track stage's
// own options (models.yaml `tracker:`).
ModelParams effective_params(const AlgorithmConfig& algorithm);
std::vector<StageSpec> effective_stages(const AlgorithmConfig& algorithm);
// One algorithm from a JSON description (the HTTP API), read by the same reader as YAML's `algorithms:`
// entries, with the same errors ("origin: field: problem").
AlgorithmConfig parse_algorithm_config(const nlohmann::json& description, const std::string& origin);
// The sugar for stages shared by YAML and flags: `track` (options), `lines` and `zones` (lists), added
// as track, lines, zones in that order before `extra`; lines or zones without a tracker get one.
std::vector<StageSpec> analysis_stages(const nlohmann::json* track, const nlohmann::json& lines,
                                       const nlohmann::json& zones, std::vector<StageSpec> extra);

// Adds the config's streams, algorithms and sinks to a pipeline created with pipeline_options(config).
PipelineOptions pipeline_options(const RunConfig& config);
void populate(Pipeline& pipeline, const RunConfig& config);

}  // namespace sf
