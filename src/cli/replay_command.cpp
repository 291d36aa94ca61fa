// `sightflow replay`: run the retained frames of a stream again, under a new algorithm name.
#include <spdlog/spdlog.h>

#include <iostream>

#include "bus/replay.hpp"
#include "cli/algorithm_flags.hpp"
#include "cli/bus_flags.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/output_flags.hpp"

namespace sf::cli {
namespace {

struct ReplayFlags {
  BusFlags bus;
  AlgorithmFlags algorithm;
  std::string from = "-", to = "+", db;
  int batch = 16;
  FrameDecodeOptions decode;
};

int replay(const ReplayFlags& f, const CLI::App& cmd) {
  if (!cmd.count("--algo-name"))
    throw std::invalid_argument("replay needs --algo-name: the new name its results are stored under");
  ReplayOptions range;
  range.from = parse_replay_bound(f.from, false);
  range.to = parse_replay_bound(f.to, true);
  range.batch = f.batch;
  ProcessorOptions options;
  options.stream = f.bus.stream;
  options.algo = f.algorithm.name();
  options.decode = f.decode;
  FrameProcessor processor(f.algorithm.create(),
                           f.db.empty() ? nullptr : std::shared_ptr<Store>(open_store(f.db)), options,
                           nullptr, f.algorithm.create_stages());
  RedisConnection redis(parse_redis_url(f.bus.redis), f.bus.retry_policy());
  std::atomic<bool> stop{false};
  InterruptWatch interrupt_watch([&] {
    stop = true;
    redis.interrupt();
  });
  Stopwatch wall;
  auto handled = replay_stream(redis, processor, range, stop);
  auto& s = processor.stats();
  nlohmann::json summary = {{"stream", f.bus.stream},
                            {"algo", options.algo},
                            {"handled", handled},
                            {"processed", s.processed.load()},
                            {"stored_new", s.stored_new.load()},
                            {"dead_lettered", s.dead_lettered.load()},
                            {"wall_seconds", wall.seconds()}};
  f.bus.write_summary(summary);
  std::cerr << "replay: " << s.processed << " frames processed as " << options.algo << ", " << s.stored_new
            << " new results stored, " << s.dead_lettered << " dead-lettered\n";
  return 0;
}

}  // namespace

Command add_replay_command(CLI::App& app) {
  auto flags = std::make_shared<ReplayFlags>();
  auto* cmd =
      app.add_subcommand("replay", "Run the frames retained in a Redis stream again, under a new name");
  auto& f = *flags;
  f.bus.add_to(*cmd, true);
  f.algorithm.add_to(*cmd);
  cmd->add_option("--from", f.from, "first entry: stream ID, or UTC time 2026-12-01T23:00:00Z")
      ->capture_default_str();
  cmd->add_option("--to", f.to, "last entry: stream ID, or UTC time")->capture_default_str();
  add_db_flag(*cmd, f.db, "where replayed results are stored");
  cmd->add_option("--batch", f.batch, "entries per XRANGE")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_spill_read_flags(*cmd, f.decode);
  return [flags, cmd] { return replay(*flags, *cmd); };
}

}  // namespace sf::cli
