#include "bus/frame_worker.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <thread>

#include "bus/fenced_commands.hpp"
#include "bus/group_info.hpp"
#include "bus/stage_input.hpp"
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
  if (options_.ordered != processor_.options().log_stage_inputs)
    throw std::invalid_argument(
        "an ordered worker needs a processor that logs its stage inputs, and only it");
  if (options_.ordered) {
    lease_ = std::make_unique<StreamLease>(redis_, lease_key(processor_.options().stream, options_.group),
                                           options_.consumer, options_.lease_s);
    // The owner's reads renew its lease: waiting for entries must not outlast it.
    options_.block_s = std::min(options_.block_s, options_.lease_s / 3);
  }
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

std::vector<StreamEntry> FrameWorker::read_as_owner() {
  const auto reconnects = redis_.reconnects();
  auto entries =
      fenced_read(redis_, *lease_, key_, options_.group, options_.batch, pending_first_ ? "0" : ">");
  if (redis_.reconnects() != reconnects) {
    // The read was sent again after a reconnect: if the first one ran, its entries are pending to us and
    // these come after them. Read our pending entries again, in order, instead.
    pending_first_ = true;
    return {};
  }
  if (pending_first_) {
    if (entries.empty()) pending_first_ = false;
    fill_deliveries(entries);  // a new owner reads its predecessor's entries here
    return entries;
  }
  if (!entries.empty()) {
    last_delivered_ = entries.back().id;
    return entries;
  }
  // Nothing new: wait (a script cannot) for an entry after the last one delivered; the next fenced read
  // takes it. XREAD sends that entry too: one frame more on the wire per wait, only while caught up.
  redis_.command({"XREAD", "COUNT", "1", "BLOCK", std::to_string(int64_t(options_.block_s * 1000)), "STREAMS",
                  key_, last_delivered_});
  return {};
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
    fill_deliveries(entries);
    counters_.claimed += int64_t(entries.size());
    spdlog::info("worker {}: claimed {} entries idle over {} s from other consumers", options_.consumer,
                 entries.size(), options_.claim_idle_s);
  }
  return entries;
}

// How often each was delivered (XAUTOCLAIM and re-reads count): a poison message shows as many.
void FrameWorker::fill_deliveries(std::vector<StreamEntry>& entries) {
  if (entries.empty()) return;
  auto pending = redis_.command({"XPENDING", key_, options_.group, entries.front().id, entries.back().id,
                                 std::to_string(entries.size())});
  for (size_t i = 0; pending->type == REDIS_REPLY_ARRAY && i < pending->elements; ++i) {
    const auto* row = pending->element[i];
    if (row->type != REDIS_REPLY_ARRAY || row->elements < 4) continue;
    auto id = reply_string(row->element[0]);
    for (auto& e : entries)
      if (e.id == id) e.deliveries = reply_integer(row->element[3]);
  }
}

bool FrameWorker::try_become_owner() {
  if (!lease_->hold()) return false;
  owner_ = true;
  ++counters_.became_owner;
  rebuild_stages();
  claim_all_pending();
  pending_first_ = true;  // the claimed entries first, in stream order
  for (const auto& g : read_groups(redis_, key_))
    if (g.name == options_.group) last_delivered_ = g.last_delivered.to_string();
  return true;
}

void FrameWorker::rebuild_stages() {
  const auto& o = processor_.options();
  auto log = stage_log_key(o.stream, o.algo);
  Stopwatch watch;
  std::string from = "-";
  int64_t replayed = 0;
  for (;;) {
    auto entries = parse_entries(redis_.command({"XRANGE", log, from, "+", "COUNT", "1000"}).get());
    if (entries.empty()) break;
    for (const auto& e : entries) {
      const auto* input = e.field("input");
      if (!input) throw std::runtime_error("entry " + e.id + " of " + log + " has no input");
      processor_.replay_stage_input(stage_input_from_json(*input, o.stream, o.algo));
      ++replayed;
    }
    from = "(" + entries.back().id;
    // A long log must not cost the lease to a standby that would then rebuild too.
    if (!lease_->hold()) throw LeaseLost("lost the lease " + lease_->key() + " while rebuilding the stages");
  }
  spdlog::info("worker {}: owner of {}; stages rebuilt from {} logged results (up to frame {}) in {:.2f} s",
               options_.consumer, key_, replayed, processor_.last_staged_frame(), watch.seconds());
}

void FrameWorker::claim_all_pending() {
  std::string cursor = "0-0";
  int64_t claimed = 0;
  do {
    // JUSTID: the entries are read again, in order, by read_as_owner; that read counts the delivery.
    auto reply = redis_.command(
        {"XAUTOCLAIM", key_, options_.group, options_.consumer, "0", cursor, "COUNT", "1000", "JUSTID"});
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2)
      throw RedisError("unexpected XAUTOCLAIM reply");
    cursor = reply_string(reply->element[0]);
    if (reply->element[1]->type == REDIS_REPLY_ARRAY) claimed += int64_t(reply->element[1]->elements);
    if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY)
      processor_.stats().trimmed += int64_t(reply->element[2]->elements);
  } while (cursor != "0-0");
  if (claimed > 0) {
    counters_.claimed += claimed;
    spdlog::info("worker {}: took over {} pending entries of {}", options_.consumer, claimed, key_);
  }
}

void FrameWorker::wait_as_standby(const std::atomic<bool>& stop) {
  auto until = steady_now() + std::min(0.5, options_.lease_s / 4);
  while (!stop && steady_now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
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
  if (lease_) {
    const auto& o = processor_.options();
    if (!fenced_commit(redis_, *lease_, stage_log_key(o.stream, o.algo), batch.first_logged_frame,
                       batch.commands))
      spdlog::info("worker {}: batch from frame {} was committed before (a lost reply)", options_.consumer,
                   batch.first_logged_frame);
  } else {
    send_commands(redis_, batch.commands);
  }
  counters_.acked += int64_t(batch.handled.size());
  handled_ += int64_t(batch.handled.size());
}

void FrameWorker::run(const std::atomic<bool>& stop) {
  try {
    loop(stop);
  } catch (...) {
    give_up_lease();
    throw;
  }
  give_up_lease();
}

void FrameWorker::give_up_lease() {
  if (!owner_) return;
  owner_ = false;
  try {
    lease_->release();  // a standby takes over at once instead of after the lease's ttl
  } catch (const std::exception& e) {
    spdlog::warn("worker {}: could not release {}: {}", options_.consumer, lease_->key(), e.what());
  }
}

void FrameWorker::recreate_group(const RedisNoGroup& error) {
  // At "0": capture may already have published to the new stream; those frames belong to this group too.
  ensure_group(redis_, key_, options_.group, "0");
  ++counters_.groups_recreated;
  pending_first_ = true;
  claim_cursor_ = last_delivered_ = "0-0";
  spdlog::warn(
      "worker {}: {}: the group is gone (Redis restarted without persistence?); created it again on {}: "
      "frames the old stream held and no worker had finished are lost",
      options_.consumer, error.what(), key_);
}

void FrameWorker::loop(const std::atomic<bool>& stop) {
  double last_entry = steady_now();
  next_claim_ = steady_now() + std::min(options_.claim_interval_s, options_.claim_idle_s);
  // idle_exit_s without an entry: done if the group has nothing left, else wait on.
  auto idle_done = [&] {
    if (options_.idle_exit_s <= 0 || steady_now() - last_entry < options_.idle_exit_s) return false;
    if (group_drained()) {
      spdlog::info("worker {}: nothing new for {} s and nothing pending: done", options_.consumer,
                   options_.idle_exit_s);
      return true;
    }
    last_entry = steady_now();  // entries are pending elsewhere: they will be claimed
    return false;
  };
  while (!stop) {
    if (options_.max_frames >= 0 && handled_ >= options_.max_frames) break;
    try {
      if (lease_ && !owner_ && !try_become_owner()) {
        if (idle_done()) break;
        wait_as_standby(stop);
        continue;
      }
      std::vector<StreamEntry> entries;
      if (lease_) {
        entries = read_as_owner();
      } else if (pending_first_) {
        entries = read_own_pending();
      } else if (steady_now() >= next_claim_) {
        entries = claim_idle();
      } else {
        entries = read_new();
      }
      if (!entries.empty()) {
        handle(entries);
        last_entry = steady_now();
      } else if (idle_done()) {
        break;
      }
    } catch (const RedisNoGroup& e) {
      recreate_group(e);
      last_entry = steady_now();
    }
  }
}

nlohmann::json FrameWorker::stats_json() const {
  auto& s = processor_.stats();
  nlohmann::json stats = {{"consumer", options_.consumer},
                          {"group", options_.group},
                          {"processed", s.processed.load()},
                          {"stored_new", s.stored_new.load()},
                          {"claimed", counters_.claimed.load()},
                          {"acked", counters_.acked.load()},
                          {"dead_lettered", s.dead_lettered.load()},
                          {"skipped_old", s.skipped_old.load()},
                          {"trimmed", s.trimmed.load()},
                          {"reconnects", redis_.reconnects()},
                          {"groups_recreated", counters_.groups_recreated.load()},
                          {"already_done", s.already_done.load()},
                          {"replayed", s.replayed.load()},
                          {"became_owner", counters_.became_owner.load()}};
  if (lease_) stats["owner"] = owner_.load();
  return stats;
}

}  // namespace sf
