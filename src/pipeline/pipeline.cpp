#include "sightflow/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

namespace sf {

Mode parse_mode(const std::string& name) {
  if (name == "offline") return Mode::Offline;
  if (name == "realtime" || name == "real-time") return Mode::Realtime;
  throw std::invalid_argument("unknown mode '" + name + "' (expected offline or realtime)");
}

std::string to_string(Mode mode) { return mode == Mode::Offline ? "offline" : "realtime"; }

struct Pipeline::Worker {
  Worker(std::string stream_name, std::string algo_name, std::shared_ptr<Algorithm> algo,
         StageList stage_list, const Schedule& s, size_t capacity, OverflowPolicy policy)
      : stream(std::move(stream_name)),
        name(std::move(algo_name)),
        algorithm(std::move(algo)),
        stages(std::move(stage_list)),
        scheduler(s),
        jobs(capacity, policy) {}
  std::string stream, name;
  // Shared with the decode thread, which calls prepare(); the worker releases it when done (under the
  // lock), and a prepare() in flight keeps its own reference.
  std::shared_ptr<Algorithm> algorithm;
  std::mutex algorithm_mutex;
  StageList stages;     // used by the worker thread only
  Scheduler scheduler;  // used by the stream's decode thread only
  BoundedQueue<Job> jobs;
  std::thread thread;
};

struct Pipeline::Stream {
  std::string uri, name;
  SourceOptions options;
  std::unique_ptr<Source> source;
  std::vector<Worker*> workers;
  std::thread thread;
};

Pipeline::Pipeline(PipelineOptions options)
    : options_(options), results_(std::max<size_t>(options.result_queue, 1), OverflowPolicy::Block) {}

Pipeline::~Pipeline() {
  if (started_ && !waited_) {
    stop();
    try {
      wait();
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
    }
  }
}

void Pipeline::add_stream(const std::string& uri, SourceOptions options) {
  auto stream = std::make_unique<Stream>();
  stream->uri = uri;
  stream->name = options.name.empty() ? default_stream_name(uri) : options.name;
  options.name = stream->name;
  stream->options = options;
  streams_.push_back(std::move(stream));
}

void Pipeline::add_stream(std::unique_ptr<Source> source, const std::string& name) {
  auto stream = std::make_unique<Stream>();
  stream->uri = name;
  stream->name = name;
  stream->source = std::move(source);
  streams_.push_back(std::move(stream));
}

void Pipeline::add_algorithm(const std::string& name, AlgorithmFactory factory, Schedule schedule,
                             std::vector<std::string> streams, StagesFactory stages) {
  validate(schedule);
  algorithm_specs_.push_back({name, std::move(factory), schedule, std::move(streams), std::move(stages)});
}

void Pipeline::add_sink(std::shared_ptr<Sink> sink) {
  metrics_.add_counter_source(sink);  // what it counts itself is reported with the pipeline's metrics
  sinks_.push_back(std::move(sink));
}

void Pipeline::start() {
  if (started_) throw std::logic_error("pipeline already started");
  if (streams_.empty()) throw std::invalid_argument("no stream to run: add a source");
  if (algorithm_specs_.empty()) throw std::invalid_argument("no algorithm to run: add a detector");
  std::set<std::string> names;
  for (auto& s : streams_) {
    if (!names.insert(s->name).second) throw std::invalid_argument("two streams are named '" + s->name + "'");
  }
  std::set<std::string> algo_names;
  for (const auto& spec : algorithm_specs_) {
    if (!algo_names.insert(spec.name).second) {
      throw std::invalid_argument("two algorithms are named '" + spec.name + "'");
    }
    for (const auto& wanted : spec.streams) {
      if (!names.count(wanted)) {
        throw std::invalid_argument("algorithm '" + spec.name + "' names unknown stream '" + wanted + "'");
      }
    }
  }
  // Create algorithms (cheap checks: names, parameters) before opening sources (slow for live URLs), and
  // both before any thread starts, so that a mistake fails fast and cleanly.
  bool realtime = options_.mode == Mode::Realtime;
  for (const auto& spec : algorithm_specs_) {
    for (auto& s : streams_) {
      if (!spec.streams.empty() &&
          std::find(spec.streams.begin(), spec.streams.end(), s->name) == spec.streams.end())
        continue;
      workers_.push_back(std::make_unique<Worker>(
          s->name, spec.name, spec.factory(), spec.stages ? spec.stages() : StageList{}, spec.schedule,
          realtime ? std::max<size_t>(options_.realtime_queue, 1)
                   : std::max<size_t>(options_.offline_queue, 1),
          realtime ? OverflowPolicy::DropOldest : OverflowPolicy::Block));
      s->workers.push_back(workers_.back().get());
    }
  }
  for (auto& s : streams_) {
    if (!s->source) s->source = open_source(s->uri, s->options);
  }
  started_ = true;
  sink_thread_ = std::thread([this] { sink_loop(); });
  for (auto& w : workers_) w->thread = std::thread([this, w = w.get()] { worker_loop(*w); });
  for (auto& s : streams_) s->thread = std::thread([this, s = s.get()] { decode_loop(*s); });
}

std::vector<StreamInfo> Pipeline::streams() const {
  std::vector<StreamInfo> out;
  for (const auto& s : streams_) {
    StreamInfo info{s->name, 0, -1};
    if (s->source) {
      info.fps = s->source->fps();
      info.expected_frames = s->source->frame_count_hint();
      if (options_.max_frames >= 0 &&
          (info.expected_frames < 0 || info.expected_frames > options_.max_frames))
        info.expected_frames = options_.max_frames;
    }
    out.push_back(info);
  }
  return out;
}

void Pipeline::record_error(const std::string& message) {
  spdlog::error("{}", message);
  std::lock_guard lock(error_mutex_);
  if (first_error_.empty()) first_error_ = message;
}

bool Pipeline::pace(double target_steady_s) {
  auto target =
      std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(target_steady_s)));
  std::unique_lock lock(stop_mutex_);
  stop_cv_.wait_until(lock, target, [&] { return stopping_.load(); });
  return !stopping_;
}

void Pipeline::decode_loop(Stream& s) {
  Source& source = *s.source;
  bool paced = options_.mode == Mode::Realtime && !source.live();
  std::optional<double> first_pts;
  double start_steady = 0;
  int64_t emitted = 0;
  try {
    while (!stopping_ && (options_.max_frames < 0 || emitted < options_.max_frames)) {
      Stopwatch read_watch;
      auto frame = source.read();
      if (!frame) break;
      double read_s = read_watch.seconds();
      if (paced) {
        // Play a file at its own clock: frame k is due at start + (pts_k - pts_0).
        if (!first_pts) first_pts = frame->pts, start_steady = steady_now();
        if (!pace(start_steady + (frame->pts - *first_pts))) break;
        frame->wall_ts = unix_now();
      }
      ++emitted;
      metrics_.frame_read(s.name, read_s, steady_now());
      for (Worker* w : s.workers) {
        auto frames = w->scheduler.offer(*frame);
        if (!frames) continue;
        Job job{std::move(*frames), nullptr, {}};
        // Offline, pre-process here, while the worker is busy with the previous run, so the two overlap.
        // Real time, a job may still be dropped for a newer frame, and preparing every frame cost the
        // cores a model at its limit needs (16 cameras: 160 resizes a second for ~70 passes): the worker
        // prepares the job it takes, beside the passes of other streams.
        std::shared_ptr<Algorithm> algorithm;
        if (options_.mode != Mode::Realtime) {
          std::lock_guard lock(w->algorithm_mutex);
          algorithm = w->algorithm;
        }
        if (algorithm) {
          try {
            job.prepared = algorithm->prepare(job.frames, job.times);
          } catch (const std::exception& e) {
            spdlog::debug("algorithm '{}' could not prepare frame {}: {}", w->name, frame->seq, e.what());
          }  // run() pre-processes again and reports the error against the frame
        }
        std::optional<Job> evicted;
        if (!w->jobs.push(std::move(job), &evicted)) {
          if (w->jobs.closed()) break;
          metrics_.run_dropped(s.name, w->name);
        }
        if (evicted) metrics_.run_dropped(s.name, w->name);
        metrics_.queue_depth(s.name, w->name, w->jobs.size(), w->jobs.capacity());
      }
    }
  } catch (const std::exception& e) {
    record_error("stream '" + s.name + "': " + e.what());
  }
  metrics_.set_stream_totals(s.name, source.frames_skipped(), source.reconnects());
  for (Worker* w : s.workers) w->jobs.close();
}

void Pipeline::worker_loop(Worker& w) {
  try {
    w.algorithm->init();
  } catch (const std::exception& e) {
    record_error("algorithm '" + w.name + "' on stream '" + w.stream + "' failed to start: " + e.what());
    stop();
    while (w.jobs.pop()) {
    }
    return;
  }
  int64_t failures = 0;
  const bool realtime = options_.mode == Mode::Realtime;
  while (auto job = w.jobs.pop()) {
    std::unique_ptr<Reservation> turn;
    if (realtime) {
      // A shared model busy with other streams: wait for a turn before choosing the frame, then run on
      // the newest one, so that the frame waits about one pass instead of every other stream's.
      turn = w.algorithm->reserve();
      if (turn) {
        while (auto newer = w.jobs.pop_for(std::chrono::seconds(0))) {
          metrics_.run_dropped(w.stream, w.name);
          job = std::move(newer);
        }
      }
    }
    metrics_.queue_depth(w.stream, w.name, w.jobs.size(), w.jobs.capacity());
    const Frame& newest = job->frames.back();
    Result r;
    r.stream = w.stream;
    r.algo = w.name;
    r.frame = newest.seq;
    r.pts = newest.pts;
    r.capture_ts = newest.wall_ts;
    r.image = newest.image;
    r.times = job->times;
    if (!job->prepared) {
      try {
        job->prepared = w.algorithm->prepare(job->frames, r.times);
      } catch (const std::exception&) {
      }  // run_prepared() pre-processes again and reports the error against the frame
    }
    try {
      AlgorithmOutput out = w.algorithm->run_prepared(job->frames, job->prepared, r.times);
      r.detections = std::move(out.detections);
      r.labels = std::move(out.labels);
      r.values = std::move(out.values);
      run_stages(w.stages, r, newest);
    } catch (const std::exception& e) {
      // One bad frame must not end the stream; a persistently failing algorithm is reported each time
      // for the first few runs only, and counted always (a run where every run failed exits non-zero).
      metrics_.run_failed(w.stream, w.name);
      if (++failures <= 5) {
        spdlog::error("algorithm '{}' failed on stream '{}' frame {}: {}", w.name, w.stream, newest.seq,
                      e.what());
      }
      continue;
    }
    r.ts = unix_now();
    if (!results_.push(std::move(r))) break;
  }
  // Done: release the algorithm (and its hold on a shared model) now, so that a batcher stops waiting
  // for this worker's requests while other streams go on.
  std::lock_guard lock(w.algorithm_mutex);
  w.algorithm.reset();
}

void Pipeline::sink_loop() {
  bool sinks_ok = true;
  while (auto r = results_.pop()) {
    Stopwatch watch;
    if (sinks_ok) {
      try {
        for (auto& sink : sinks_) sink->write(*r);
      } catch (const std::exception& e) {
        record_error(std::string("result sink failed: ") + e.what());
        sinks_ok = false;
        stop();
      }
    }
    r->times.sink = watch.seconds();
    r->times.total = unix_now() - r->capture_ts;
    metrics_.run_done(r->stream, r->algo, r->times.resize, r->times.model, r->times.post, r->times.sink,
                      r->times.total, r->detections.size(), steady_now());
  }
  for (auto& sink : sinks_) {
    try {
      sink->close();
    } catch (const std::exception& e) {
      record_error(std::string("closing a result sink failed: ") + e.what());
    }
  }
}

void Pipeline::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (auto& s : streams_) {
    if (s->source) s->source->interrupt();
  }
}

void Pipeline::wait() {
  if (!started_ || waited_) return;
  waited_ = true;
  for (auto& s : streams_) {
    if (s->thread.joinable()) s->thread.join();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  results_.close();
  if (sink_thread_.joinable()) sink_thread_.join();
  std::lock_guard lock(error_mutex_);
  if (!first_error_.empty()) throw std::runtime_error(first_error_);
}

}  // namespace sf
