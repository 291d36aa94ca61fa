#pragma once
// Analysis after detection: a stage sees each result of one algorithm on one stream, in frame order, on
// the worker thread, right after the algorithm ran and before any sink sees the result. It may change
// the detections (filter them, give them a track_id) and add events and summaries (Result::events,
// Result::analytics). One instance per (stream, algorithm), so it can keep state across runs.
//
// A new stage is one file plus one registration in src/analyze/stage_registry.cpp (built-in), or a
// register_stage() call (a program's or a test's own stage); it is then reachable from YAML (`stages:`),
// the flags (`--stage TYPE[:JSON]`) and the HTTP API alike.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sightflow/frame.hpp"
#include "sightflow/result.hpp"

namespace sf {

class Stage {
 public:
  virtual ~Stage() = default;
  // `frame` is the newest frame of the run (its image may be empty when frames come without pixels).
  virtual void process(Result& result, const Frame& frame) = 0;
};

using StageList = std::vector<std::unique_ptr<Stage>>;

// Runs the stages in order on one result.
void run_stages(StageList& stages, Result& result, const Frame& frame);

// One configured stage: its registered type and its options (a JSON object, checked by the factory).
struct StageSpec {
  std::string type;
  nlohmann::json options = nlohmann::json::object();
};

// Builds a stage from its options; throws std::invalid_argument naming the bad option. Called once per
// (stream, algorithm) when a run starts, and once when a configuration is read (to report bad options
// before anything runs), so it must be cheap and free of side effects.
using StageFactory = std::function<std::unique_ptr<Stage>(const nlohmann::json& options)>;

// Adds (or replaces) a stage type. Thread-safe.
void register_stage(const std::string& type, StageFactory factory);
// Throws std::invalid_argument naming an unknown type (and the known ones) or a bad option.
std::unique_ptr<Stage> create_stage(const StageSpec& spec);
std::vector<std::string> stage_types();

// A spec from the flag form `TYPE` or `TYPE:{json options}`; throws std::invalid_argument.
StageSpec parse_stage_flag(const std::string& text);

}  // namespace sf
