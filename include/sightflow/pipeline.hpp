#pragma once
// The in-process engine: sources -> schedulers -> algorithm workers -> sinks, joined by bounded queues.
//
// Threads: one decode thread per stream (decode, pace, schedule), one worker per (stream, algorithm),
// one sink thread. Offline mode: the job queues block, so nothing is dropped and decoding overlaps
// inference up to the queue's capacity. Real-time mode: files are paced at their frame rate, and each job
// queue keeps only the newest run (drop-oldest), so latency stays bounded and drops are counted.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sightflow/algorithm.hpp"
#include "sightflow/bounded_queue.hpp"
#include "sightflow/metrics.hpp"
#include "sightflow/schedule.hpp"
#include "sightflow/sink.hpp"
#include "sightflow/source.hpp"
#include "sightflow/stage.hpp"

namespace sf {

enum class Mode { Offline, Realtime };
Mode parse_mode(const std::string& name);  // "offline" | "realtime"
std::string to_string(Mode mode);

struct PipelineOptions {
  Mode mode = Mode::Offline;
  int64_t max_frames = -1;    // per stream; -1: until the source ends
  size_t offline_queue = 4;   // job queue capacity per (stream, algorithm) in offline mode (blocking)
  size_t realtime_queue = 1;  // in real-time mode (drop-oldest): only the newest run waits
  size_t result_queue = 256;  // between workers and the sink thread (blocking)
};

using AlgorithmFactory = std::function<std::unique_ptr<Algorithm>()>;
// Builds the analysis stages that follow one algorithm on one stream (a fresh list per stream).
using StagesFactory = std::function<StageList()>;

struct StreamInfo {
  std::string name;
  double fps = 0;
  int64_t expected_frames = -1;  // -1 when unknown (live, looping)
};

class Pipeline {
 public:
  explicit Pipeline(PipelineOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Adds a stream opened at start(). The stream name is options.name or derived from the URI.
  void add_stream(const std::string& uri, SourceOptions options = {});
  // Adds an already opened source (custom sources, tests).
  void add_stream(std::unique_ptr<Source> source, const std::string& name);
  // Runs `factory`'s algorithm on the listed streams (all streams when empty), one instance per stream,
  // each followed by its own `stages` (see Stage), which run on the worker before the result is queued.
  void add_algorithm(const std::string& name, AlgorithmFactory factory, Schedule schedule = {},
                     std::vector<std::string> streams = {}, StagesFactory stages = {});
  void add_sink(std::shared_ptr<Sink> sink);

  // Opens sources and creates algorithms (throwing SourceError / std::invalid_argument with a clear
  // message), then starts the threads.
  void start();
  // Blocks until every source has ended and every queued run is written. Rethrows the first error a
  // source, an algorithm or a sink raised (after all results produced until then are written).
  void wait();
  // Asks everything to finish soon: sources are interrupted; runs already queued are still completed.
  void stop();
  void run() {
    start();
    wait();
  }

  const PipelineOptions& options() const { return options_; }
  std::vector<StreamInfo> streams() const;  // valid after start()
  Metrics& metrics() { return metrics_; }

 private:
  struct Job {
    std::vector<Frame> frames;
    Prepared prepared;  // the algorithm's prepare(): on the decode thread offline, else on the worker
    StageTimes times;   // what preparing took
  };
  struct Worker;
  struct Stream;
  struct AlgorithmSpec {
    std::string name;
    AlgorithmFactory factory;
    Schedule schedule;
    std::vector<std::string> streams;
    StagesFactory stages;
  };

  void decode_loop(Stream& stream);
  void worker_loop(Worker& worker);
  void sink_loop();
  void record_error(const std::string& message);
  bool pace(double target_steady_s);  // sleeps until the target time; false if stopped

  PipelineOptions options_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<AlgorithmSpec> algorithm_specs_;
  std::vector<std::shared_ptr<Sink>> sinks_;
  std::vector<std::unique_ptr<Worker>> workers_;
  BoundedQueue<Result> results_;
  Metrics metrics_;
  std::thread sink_thread_;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  std::mutex error_mutex_;
  std::string first_error_;
  bool started_ = false, waited_ = false;
};

}  // namespace sf
