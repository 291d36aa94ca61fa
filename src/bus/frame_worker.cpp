#include "bus/frame_worker.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "bus/group_info.hpp"
#include "bus/stream_keys.hpp"

namespace sf {

std::string default_consumer_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  return std::string(host) + "-" + std::to_string(::getpid());
}

FrameWorker::FrameWorker(RedisConnection& redis, FrameProcessor& processor, WorkerOptions options)
    : redis_(redis),
      processor_(processor),
      options_(std::move(options)),
      key_(frames_key(processor.options().stream)) {
  if (options_.consumer.empty()) options_.consumer = default_consumer_name();
  if (options_.batch < 1) throw std::invalid_argument("worker batch must be at least 1");
  // A new group starts at the beginning: the frames already retained are processed too.
  if (ensure_group(redis_, key_, options_.group, "0"))
    spdlog::info("worker: created consumer group {} on {}", options_.group, key_);
  // Entries delivered before a lost connection may never have arrived: read them again.
  redis_.on_reconnect([this] { pending_first_ = true; });
}

std::vector<StreamEntry> FrameWorker::read_own_pending() {
  auto reply = redis_.command({"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT",
                               std::to_string(options_.batch), "STREAMS", key_, "0"});
  auto entries = parse_read_reply(reply.get());
  if (entries.empty()) pending_first_ = false;
  return entries;
}

std::vector<StreamEntry> FrameWorker::claim_idle() {
  auto reply = redis_.command({"XAUTOCLAIM", key_, options_.group, options_.consumer,
                               std::to_string(int64_t(options_.claim_idle_s * 1000)), claim_cursor_, "COUNT",
                               std::to_string(options_.batch)});
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2)
    throw RedisError("unexpected XAUTOCLAIM reply");
  claim_cursor_ = reply_string(reply->element[0]);
  if (claim_cursor_ == "0-0") next_claim_ = steady_now() + options_.claim_interval_s;  // a full pass is done
  auto entries = parse_entries(reply->element[1]);
  // Redis 7 drops pending entries that were trimmed from the stream and lists their IDs.
  if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY)
    processor_.stats().trimmed += int64_t(reply->element[2]->elements);
  if (!entries.empty()) {
    // How often each was delivered (XAUTOCLAIM counted this one): a poison message shows as many.
    auto pending = redis_.command({"XPENDING", key_, options_.group, entries.front().id, entries.back().id,
                                   std::to_string(entries.size())});
    for (size_t i = 0; pending->type == REDIS_REPLY_ARRAY && i < pending->elements; ++i) {
      const auto* row = pending->element[i];
      if (row->type != REDIS_REPLY_ARRAY || row->elements < 4) continue;
      auto id = reply_string(row->element[0]);
      for (auto& e : entries)
        if (e.id == id) e.deliveries = reply_integer(row->element[3]);
    }
    counters_.claimed += int64_t(entries.size());
    spdlog::info("worker {}: claimed {} entries idle over {} s from other consumers", options_.consumer,
                 entries.size(), options_.claim_idle_s);
  }
  return entries;
}

std::vector<StreamEntry> FrameWorker::read_new() {
  auto reply = redis_.command({"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT",
                               std::to_string(options_.batch), "BLOCK",
                               std::to_string(int64_t(options_.block_s * 1000)), "STREAMS", key_, ">"});
  return parse_read_reply(reply.get());
}

bool FrameWorker::group_drained() {
  for (const auto& g : read_groups(redis_, key_)) {
    if (g.name != options_.group || g.pending != 0) continue;
    if (g.lag) return *g.lag == 0;
    // Redis cannot tell the lag: compare the group's position with the newest entry.
    auto newest = parse_entries(redis_.command({"XREVRANGE", key_, "+", "-", "COUNT", "1"}).get());
    return newest.empty() || StreamId::parse(newest[0].id) <= g.last_delivered;
  }
  return false;
}

void FrameWorker::handle(const std::vector<StreamEntry>& entries) {
  auto batch = processor_.process(entries);
  OwnedCommand ack = {"XACK", key_, options_.group};
  ack.insert(ack.end(), batch.handled.begin(), batch.handled.end());
  batch.commands.push_back(std::move(ack));
  send_commands(redis_, batch.commands);
  counters_.acked += int64_t(batch.handled.size());
  handled_ += int64_t(batch.handled.size());
}

void FrameWorker::run(const std::atomic<bool>& stop) {
  double last_entry = steady_now();
  next_claim_ = steady_now() + std::min(options_.claim_interval_s, options_.claim_idle_s);
  while (!stop) {
    if (options_.max_frames >= 0 && handled_ >= options_.max_frames) break;
    std::vector<StreamEntry> entries;
    if (pending_first_) {
      entries = read_own_pending();
    } else if (steady_now() >= next_claim_) {
      entries = claim_idle();
    } else {
      entries = read_new();
    }
    if (!entries.empty()) {
      handle(entries);
      last_entry = steady_now();
    } else if (options_.idle_exit_s > 0 && steady_now() - last_entry >= options_.idle_exit_s) {
      if (group_drained()) {
        spdlog::info("worker {}: nothing new for {} s and nothing pending: done", options_.consumer,
                     options_.idle_exit_s);
        break;
      }
      last_entry = steady_now();  // entries are pending elsewhere: they will be claimed when idle
    }
  }
}

nlohmann::json FrameWorker::stats_json() const {
  auto& s = processor_.stats();
  return {{"consumer", options_.consumer},
          {"group", options_.group},
          {"processed", s.processed.load()},
          {"stored_new", s.stored_new.load()},
          {"claimed", counters_.claimed.load()},
          {"acked", counters_.acked.load()},
          {"dead_lettered", s.dead_lettered.load()},
          {"skipped_old", s.skipped_old.load()},
          {"trimmed", s.trimmed.load()},
          {"reconnects", redis_.reconnects()}};
}

}  // namespace sf
