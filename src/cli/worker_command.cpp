// `sightflow worker`: one member of a consumer group; runs an algorithm on the frames it is handed and
// writes results to sf:results:NAME and, with --db, to the results store. With stages (--track, --line,
// --zone, --stage), one worker of the group owns the stream at a time and the others stand by.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <mutex>

#include "bus/bus_metrics.hpp"
#include "bus/frame_worker.hpp"
#include "bus/group_info.hpp"
#include "bus/stream_keys.hpp"
#include "cli/algorithm_flags.hpp"
#include "cli/bus_flags.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/output_flags.hpp"
#include "http/listen.hpp"
#include "http/listen_security.hpp"
#include "http/metrics_endpoint.hpp"
#include "pipeline/metrics_registry.hpp"
#include "pipeline/pipeline_metrics.hpp"

namespace sf::cli {
namespace {

struct WorkerFlags {
  BusFlags bus;
  AlgorithmFlags algorithm;
  WorkerOptions worker;
  std::string db;
  double max_age_s = 0;
  int64_t results_maxlen = 100000;
  int64_t stage_log_maxlen = 1000000;
  int64_t max_deliveries = 5;
  std::string metrics_listen;
  std::string metrics_token;  // default: $SIGHTFLOW_TOKEN
  FrameDecodeOptions decode;
};

int work(WorkerFlags f) {
  if (f.metrics_token.empty())
    if (const char* env = std::getenv("SIGHTFLOW_TOKEN")) f.metrics_token = env;
  // Listening before anything connects: an address refused or a busy port is said at once, not after
  // Redis answers. The worker's figures join the registry below.
  MetricsRegistry registry;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  if (!f.metrics_listen.empty()) {
    auto [host, port] = parse_listen_address(f.metrics_listen, "--metrics");
    check_listen_security(host, f.metrics_token, "--metrics-token (or $SIGHTFLOW_TOKEN)");
    metrics_endpoint = std::make_unique<MetricsEndpoint>(
        host, port, [&registry] { return registry.text(); }, f.metrics_token);
    spdlog::info("worker: Prometheus metrics on http://{}:{}/metrics", host, metrics_endpoint->port());
  }
  ProcessorOptions options;
  options.stream = f.bus.stream;
  options.algo = f.algorithm.name();
  options.max_age_s = f.max_age_s;
  options.results_maxlen = f.results_maxlen;
  options.max_deliveries = f.max_deliveries;
  options.stage_log_maxlen = f.stage_log_maxlen;
  options.decode = f.decode;
  auto stages = f.algorithm.create_stages();
  // Stages need the stream's frames in order and one state: one owner at a time (docs/BUS.md).
  options.log_stage_inputs = f.worker.ordered = !stages.empty();
  Metrics metrics;
  FrameProcessor processor(f.algorithm.create(),
                           f.db.empty() ? nullptr : std::shared_ptr<Store>(open_store(f.db)), options,
                           &metrics, std::move(stages));
  RedisConnection redis(parse_redis_url(f.bus.redis), f.bus.retry_policy());
  FrameWorker worker(redis, processor, f.worker);
  spdlog::info("worker: {} of group {} on {} at {}, algorithm {}{}",
               worker.stats_json()["consumer"].get<std::string>(), f.worker.group, frames_key(f.bus.stream),
               redis.endpoint().describe(), options.algo, f.db.empty() ? "" : ", results store " + f.db);
  if (f.worker.ordered)
    spdlog::info("worker: the algorithm has stages: one worker of the group owns the stream at a time ({})",
                 lease_key(f.bus.stream, f.worker.group));

  std::atomic<bool> stop{false};
  InterruptWatch interrupt_watch([&] {
    spdlog::warn("worker: interrupted; finishing the current batch");
    stop = true;
    redis.interrupt();
  });
  // The scrape asks Redis on its own connection: the worker's is busy in a blocking read.
  std::unique_ptr<RedisConnection> metrics_redis;
  std::mutex metrics_mutex;
  std::shared_ptr<FamilySource> figures;
  // Scrapes read the worker and metrics_redis: the endpoint stops before they go.
  struct StopEndpoint {
    std::unique_ptr<MetricsEndpoint>& endpoint;
    ~StopEndpoint() { endpoint.reset(); }
  } stop_endpoint{metrics_endpoint};
  if (metrics_endpoint) {
    metrics_redis = std::make_unique<RedisConnection>(parse_redis_url(f.bus.redis), f.bus.retry_policy());
    figures = std::make_shared<FamilySource>([&](MetricFamilies& out) {
      std::lock_guard lock(metrics_mutex);
      add_worker_metrics(out, worker.stats_json(), f.bus.stream);
      add_bus_stream_metrics(out, stream_stats_json(*metrics_redis, f.bus.stream));
      add_pipeline_metrics(out, metrics);  // the algorithm's runs and stage times, the store's writes
    });
    registry.add(figures);
  }
  Stopwatch wall;
  StatsTicker ticker(f.bus.stats_interval_s, [&] { return "worker: " + worker.stats_json().dump(); });
  std::string error;
  try {
    worker.run(stop);
  } catch (const RedisUnavailable& e) {
    if (!stop) error = e.what();
  } catch (const std::exception& e) {
    error = e.what();
  }
  double seconds = wall.seconds();
  auto summary = worker.stats_json();
  summary["stream"] = f.bus.stream;
  summary["algo"] = options.algo;
  summary["wall_seconds"] = seconds;
  summary["fps"] = seconds > 0 ? double(summary["processed"].get<int64_t>()) / seconds : 0.0;
  summary["metrics"] = metrics.to_json(steady_now());
  summary["error"] = error;
  if (error.empty()) {
    try {
      summary["bus"] = stream_stats_json(redis, f.bus.stream);
    } catch (const std::exception& e) {
      spdlog::warn("worker: no stream stats: {}", e.what());
    }
  }
  f.bus.write_summary(summary);
  std::cerr << "worker: " << summary["processed"] << " frames processed (" << summary["fps"].get<double>()
            << " fps), " << summary["stored_new"] << " new results stored, " << summary["claimed"]
            << " claimed, " << summary["dead_lettered"] << " dead-lettered, " << summary["skipped_old"]
            << " skipped as too old, " << summary["reconnects"] << " reconnects\n";
  if (!error.empty()) {
    std::cerr << "sightflow: error: " << error << "\n";
    return 2;
  }
  return 0;
}

}  // namespace

Command add_worker_command(CLI::App& app) {
  auto flags = std::make_shared<WorkerFlags>();
  auto* cmd =
      app.add_subcommand("worker", "Run an algorithm on the frames of a Redis stream, as one of a group");
  auto& f = *flags;
  f.bus.add_to(*cmd, true);
  f.algorithm.add_to(*cmd);
  auto& w = f.worker;
  cmd->add_option("--group", w.group, "consumer group")->capture_default_str();
  cmd->add_option("--consumer", w.consumer, "consumer name, unique in the group (default: host-pid)");
  add_db_flag(*cmd, f.db, "where results are stored");
  cmd->add_option("--batch", w.batch, "entries per read")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--claim-idle", w.claim_idle_s,
                  "take over entries pending this many seconds (dead consumer)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--claim-interval", w.claim_interval_s, "seconds between looks for such entries")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-age", f.max_age_s,
                  "skip frames captured longer ago than this many seconds (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option(
         "--idle-exit", w.idle_exit_s,
         "exit once nothing arrived for this many seconds and the group has nothing pending (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--metrics", f.metrics_listen,
                  "serve Prometheus metrics at HOST:PORT/metrics (e.g. 127.0.0.1:9101)");
  cmd->add_option("--metrics-token", f.metrics_token,
                  "token that scrapes of --metrics must send (Authorization: Bearer TOKEN); default "
                  "$SIGHTFLOW_TOKEN; required to listen beyond 127.0.0.1");
  cmd->add_option("--max-deliveries", f.max_deliveries,
                  "dead-letter an entry delivered this many times without an acknowledgement (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--lease", w.lease_s,
                  "with stages: seconds after which a standby takes over the stream from a silent owner")
      ->check(CLI::Range(0.3, 3600.0))
      ->capture_default_str();
  cmd->add_option("--stage-log-maxlen", f.stage_log_maxlen,
                  "with stages: approximate cap of sf:stagelog:NAME:ALGO, what a new owner replays")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-frames", w.max_frames, "exit after handling this many entries");
  cmd->add_option("--results-maxlen", f.results_maxlen, "approximate cap of sf:results:NAME")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_spill_read_flags(*cmd, f.decode);
  return [flags] { return work(*flags); };
}

}  // namespace sf::cli
