#include "bus/frame_processor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "bus/frame_message.hpp"
#include "bus/stage_input.hpp"
#include "bus/stream_keys.hpp"

namespace sf {

FrameProcessor::FrameProcessor(std::unique_ptr<Algorithm> algorithm, std::shared_ptr<Store> store,
                               ProcessorOptions options, Metrics* metrics, StageList stages)
    : algorithm_(std::move(algorithm)),
      stages_(std::move(stages)),
      store_(std::move(store)),
      options_(std::move(options)),
      metrics_(metrics) {
  algorithm_->init();
  if (metrics_ && store_) metrics_->add_counter_source(store_stats_);
}

ProcessedBatch FrameProcessor::process(const std::vector<StreamEntry>& entries) {
  ProcessedBatch batch;
  std::vector<Result> results;
  std::vector<FrameRecord> frames;
  std::vector<std::string> stage_inputs;  // aligned with results when logging
  std::vector<std::string> refs;          // aligned with results: the frame entry each was computed on
  auto maxlen = std::to_string(options_.results_maxlen);
  for (const auto& entry : entries) {
    batch.handled.push_back(entry.id);
    if (entry.deleted) {
      ++stats_.trimmed;
      continue;
    }
    Frame frame;
    try {
      if (options_.max_deliveries > 0 && entry.deliveries > options_.max_deliveries)
        throw FrameMessageError("delivered " + std::to_string(entry.deliveries) +
                                " times without being acknowledged (it stopped every worker that took it)");
      frame = decode_frame_message(options_.stream, entry, options_.decode);
    } catch (const FrameMessageError& e) {
      spdlog::warn("worker: entry {} of {} is not a usable frame ({}): moved to {}", entry.id,
                   frames_key(options_.stream), e.what(), dead_letter_key(options_.stream));
      OwnedCommand dead = {"XADD",   dead_letter_key(options_.stream),
                           "MAXLEN", "~",
                           maxlen,   "*",
                           "id",     entry.id,
                           "reason", e.what(),
                           "algo",   options_.algo};
      for (const auto& [name, value] : entry.fields) {
        dead.push_back("msg:" + name);
        dead.push_back(value);
      }
      batch.commands.push_back(std::move(dead));
      ++stats_.dead_lettered;
      continue;
    }
    if (options_.log_stage_inputs && frame.seq <= last_staged_frame_) {
      ++stats_.already_done;  // its result was committed with the stages' state that follows it
      continue;
    }
    if (options_.max_age_s > 0 && unix_now() - frame.wall_ts > options_.max_age_s) {
      ++stats_.skipped_old;
      continue;
    }
    StageTimes times;
    Frame frames_of_run[] = {frame};
    Stopwatch watch;
    auto output = algorithm_->run(frames_of_run, times);
    Result r;
    r.stream = options_.stream;
    r.algo = options_.algo;
    r.frame = frame.seq;
    r.pts = frame.pts;
    r.ts = unix_now();
    r.capture_ts = frame.wall_ts;
    r.detections = std::move(output.detections);
    r.labels = std::move(output.labels);
    r.values = std::move(output.values);
    r.times = times;
    if (options_.log_stage_inputs) {
      stage_inputs.push_back(stage_input_json(r));
      if (batch.first_logged_frame < 0) batch.first_logged_frame = r.frame;
      last_staged_frame_ = r.frame;
    }
    run_stages(stages_, r, frame);
    r.times.total = watch.seconds();
    frames.push_back(
        {options_.stream, frame.seq, frame.pts, frame.wall_ts, frame.image.cols, frame.image.rows, "", 0});
    results.push_back(std::move(r));
    refs.push_back(entry.id);
    ++stats_.processed;
  }
  if (store_ && !results.empty()) {
    Stopwatch watch;
    stats_.stored_new += int64_t(store_->write(results, frames));
    store_stats_->add(results.size(), watch.seconds());
  }
  auto log_maxlen = std::to_string(options_.stage_log_maxlen);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    // `ref`: the frame's entry in sf:frames:NAME, as RedisEdge's results carry it, so that a consumer of
    // results finds the image (XRANGE sf:frames:NAME REF REF) while it is retained.
    batch.commands.push_back({"XADD", results_key(options_.stream), "MAXLEN", "~", maxlen, "*", "ref",
                              refs[i], "algo", r.algo, "frame", std::to_string(r.frame), "pts",
                              std::to_string(r.pts), "count", std::to_string(r.detections.size()), "json",
                              to_json(r).dump()});
    if (i < stage_inputs.size())
      batch.commands.push_back({"XADD", stage_log_key(options_.stream, options_.algo), "MAXLEN", "~",
                                log_maxlen, "*", "frame", std::to_string(r.frame), "input", stage_inputs[i]});
    if (metrics_)
      metrics_->run_done(r.stream, r.algo, r.times.resize, r.times.model, r.times.post, 0,
                         unix_now() - r.capture_ts, r.detections.size(), steady_now());
  }
  return batch;
}

void FrameProcessor::replay_stage_input(const Result& input) {
  Result r = input;
  Frame frame;  // no pixels: the stages that run across workers work on results alone
  frame.stream = r.stream;
  frame.seq = r.frame;
  frame.pts = r.pts;
  frame.wall_ts = r.capture_ts;
  run_stages(stages_, r, frame);
  last_staged_frame_ = std::max(last_staged_frame_, r.frame);
  ++stats_.replayed;
}

void send_commands(RedisConnection& redis, const std::vector<OwnedCommand>& commands) {
  if (commands.empty()) return;
  std::vector<RedisCommand> views;
  for (const auto& c : commands) views.emplace_back(c.begin(), c.end());
  auto replies = redis.pipeline(views);
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i]->type == REDIS_REPLY_ERROR)
      throw_reply_error(commands[i][0] + " " + commands[i][1],
                        std::string_view(replies[i]->str, replies[i]->len));
  }
}

}  // namespace sf
