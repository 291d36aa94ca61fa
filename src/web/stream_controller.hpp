#pragma once
// The streams a web server shows and controls. A stream started from the API (or the dashboard) runs in
// a pipeline of its own, so that stopping it leaves the others alone; the pipeline of `sightflow run
// --serve` is adopted: listed and measured, but it belongs to the run and is not stopped from the API.
// Streams seen only in the live view (read from Redis by `serve --redis`) are listed as remote. Thread-safe.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/metric_families.hpp"
#include "sightflow/config.hpp"
#include "sightflow/pipeline.hpp"
#include "source/source_policy.hpp"
#include "web/live_view.hpp"

namespace sf {

// POST /api/streams: what to run. Unknown keys and bad values are HttpError 400 naming them.
struct StreamStartRequest {
  std::string name, source;
  AlgorithmConfig algorithm;  // detector, params, schedule, motion, stages: as a YAML algorithm entry
  Mode mode = Mode::Realtime;
  bool loop = false;
  double fps = 0;  // downsample the source (0: every frame)
};
StreamStartRequest parse_stream_request(const nlohmann::json& body);

struct ControllerOptions {
  // What started streams write to besides the live view (built through the sink registry), e.g. the
  // process's store with its archive, and its webhook.
  SinkConfig sinks;
  // Which sources a request may name (source/source_policy.hpp): by default network cameras, no files.
  SourceRules sources;
};

class StreamController {
 public:
  StreamController(LiveView& live, ControllerOptions options = {});
  ~StreamController();  // stops the streams it started and waits for them
  StreamController(const StreamController&) = delete;
  StreamController& operator=(const StreamController&) = delete;

  // Lists the streams of a pipeline someone else runs (after its start()); `sources` maps stream names to
  // their URIs. Call finished() when its wait() returns.
  void adopt(Pipeline& pipeline, const std::map<std::string, std::string>& sources, Mode mode);
  void finished(Pipeline& pipeline, const std::string& error);

  // Opens the source and starts a pipeline (throws HttpError: 403 "source not allowed: ..." before anything
  // is opened, 409 name taken by a live stream, 400 bad request, source or detector, with the reason).
  // Returns the stream's JSON.
  nlohmann::ordered_json start(const StreamStartRequest& request);
  // Stops a stream started by start() (HttpError 404 unknown, 409 not controllable); returns at once.
  void stop(const std::string& name);

  // The STREAM objects of docs/WEB.md, for every known stream; one (HttpError 404 if unknown).
  nlohmann::ordered_json list() const;
  nlohmann::ordered_json describe(const std::string& name) const;
  // Every pipeline's metrics, as Prometheus families and as JSON (name -> Metrics::to_json).
  void add_metrics(MetricFamilies& out) const;
  nlohmann::json metrics_json() const;
  // Pipelines started here that are not freed yet: running, or ended with their watcher not yet joined
  // (joins the finished ones first). For tests.
  size_t held_pipelines();
  static constexpr size_t kKeptEnded = 32;  // ended streams still listed

 private:
  struct Owned;
  struct Entry {
    std::string source, state, error;
    Mode mode = Mode::Realtime;
    bool controllable = false;
    Pipeline* pipeline = nullptr;  // null for remote streams and once a started stream's pipeline is freed
    std::shared_ptr<Owned> owned;  // set while a stream started here runs
    nlohmann::ordered_json last_seen;  // a stream started here that has ended: its figures at the end
    double ended_at = 0;               // steady time it ended (the oldest ended streams are forgotten first)
  };
  nlohmann::ordered_json describe_locked(const std::string& name, const Entry* entry) const;
  void watch(std::shared_ptr<Owned> owned, std::string name);
  // Ended streams beyond kKeptEnded leave the list and the live view, oldest first.
  void forget_oldest_ended_locked();
  // Takes the pipelines whose watchers have finished out of owned_, to be joined without the lock.
  std::vector<std::shared_ptr<Owned>> take_finished_locked();
  static void join(std::vector<std::shared_ptr<Owned>>& finished);

  LiveView& live_;
  ControllerOptions options_;
  SourcePolicy source_policy_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  // Every pipeline started here until its watcher is joined: the watcher frees the pipeline as soon as it
  // ends, and the next call that changes streams (or held_pipelines) joins the watcher.
  std::vector<std::shared_ptr<Owned>> owned_;
};

}  // namespace sf
