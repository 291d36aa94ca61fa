#pragma once
// A run described as data: streams, algorithms with schedules and parameters, sinks. Read from YAML
// (`sightflow run --config FILE`) or assembled from command-line flags; both build the same Pipeline.
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sightflow/model.hpp"
#include "sightflow/pipeline.hpp"
#include "sightflow/schedule.hpp"
#include "sightflow/source.hpp"
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
};

struct WebhookConfig {
  std::string url;  // http://HOST[:PORT][/PATH] (empty = none)
  bool only_changes = false;
  size_t queue = 1000;
  std::string dead_letter = "sightflow-out/webhook-dead.jsonl";
  double timeout = 5;
  double max_retry_seconds = 300;
};

struct SinkConfig {
  std::string jsonl;  // results file ("-" = stdout; empty = none)
  std::string video;  // annotated video file (empty = none)
  std::string db;     // results store: SQLite file or postgresql:// URL (empty = none)
  RetentionPolicy retention;
  std::string archive_dir;  // frame archive folder (empty = none; needs db)
  ArchivePolicy archive;
  WebhookConfig webhook;  // POST each result (or each change of count) to a URL
};

struct RunConfig {
  Mode mode = Mode::Offline;
  int64_t max_frames = -1;
  double stats_interval = 5.0;  // seconds between live stats lines in real-time mode (0: off)
  std::vector<StreamConfig> streams;
  std::vector<AlgorithmConfig> algorithms;
  SinkConfig sinks;
};

RunConfig parse_run_config(const std::string& yaml_text, const std::string& origin = "config");
RunConfig load_run_config(const std::string& path);

// Semantic checks shared by YAML and flags (names unique, schedules valid, streams referenced exist).
void validate(const RunConfig& config);

// Adds the config's streams, algorithms and sinks to a pipeline created with pipeline_options(config).
PipelineOptions pipeline_options(const RunConfig& config);
void populate(Pipeline& pipeline, const RunConfig& config);

}  // namespace sf
