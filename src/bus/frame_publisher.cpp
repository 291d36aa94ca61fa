#include "bus/frame_publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "bus/group_info.hpp"
#include "bus/stream_keys.hpp"

namespace sf {

nlohmann::json PublisherStats::to_json() const {
  return {{"published", published.load()},
          {"bytes", bytes.load()},
          {"spilled", spilled.load()},
          {"trimmed", trimmed.load()},
          {"trimmed_unread", trimmed_unread.load()},
          {"lost", lost.load()},
          {"backpressure_wait_s", backpressure_wait_s.load()}};
}

FramePublisher::FramePublisher(RedisConnection& redis, PublisherOptions options)
    : redis_(redis),
      options_(std::move(options)),
      key_(frames_key(options_.stream)),
      maxlen_(std::to_string(options_.maxlen)) {
  if (options_.maxlen < 1) throw std::invalid_argument("maxlen must be at least 1");
  reconnects_seen_ = redis_.reconnects();
  if (!options_.group.empty() && ensure_group(redis_, key_, options_.group, "$"))
    spdlog::info("capture: created consumer group {} on {}", options_.group, key_);
  // A stream that already holds entries (an earlier capture) keeps them; only ours are accounted.
}

void FramePublisher::wait_for_consumers() {
  double high = options_.high_water * double(options_.maxlen);
  if (double(lag_estimate_) < high) return;
  auto started = std::chrono::steady_clock::now();
  int polls = 0;
  for (;;) {
    // What a group has not finished: from its oldest unacknowledged entry (a slow or dead consumer's,
    // which MAXLEN must not trim either) to the end; without pending entries, its lag.
    int64_t lag = 0;
    for (const auto& g : read_groups(redis_, key_, true)) {
      auto first_unfinished = g.oldest_pending ? *g.oldest_pending : g.last_delivered;
      auto unfinished = std::upper_bound(live_.begin(), live_.end(), first_unfinished,
                                         [](const StreamId& id, const Published& p) { return id < p.id; });
      int64_t backlog = int64_t(live_.end() - unfinished) + (g.oldest_pending ? 1 : 0);
      if (!g.oldest_pending && g.lag) backlog = *g.lag;  // also counts entries of other producers
      lag = std::max(lag, backlog);
    }
    lag_estimate_ = lag;
    if (double(lag) < high) break;
    // Ctrl-C or SIGTERM (capture interrupts the connection): stop waiting, though no consumer reads.
    if (redis_.interrupted())
      throw RedisUnavailable(redis_.endpoint().describe() + ": interrupted while waiting for consumers");
    if (polls++ == 0) spdlog::debug("capture: waiting, consumer lag {} of {} entries", lag, options_.maxlen);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * polls, 100)));
  }
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  stats_.backpressure_wait_s = stats_.backpressure_wait_s.load() + waited;
}

std::string FramePublisher::publish_message(const FrameMessage& message) {
  if (options_.backpressure) wait_for_consumers();
  RedisCommand xadd = {"XADD", key_, "MAXLEN", "~", maxlen_, "*"};
  for (const auto& [name, value] : message.fields) {
    xadd.push_back(name);
    xadd.push_back(value);
  }
  auto replies = redis_.pipeline({xadd, {"XLEN", key_}});
  for (const auto& reply : replies) {
    if (reply->type == REDIS_REPLY_ERROR)
      throw RedisError("XADD " + key_ + ": " + std::string(reply->str, reply->len));
  }
  auto id = reply_string(replies.at(0).get());
  if (redis_.reconnects() != reconnects_seen_) {
    reconnects_seen_ = redis_.reconnects();
    account_lost(StreamId::parse(id));
  }
  live_.push_back({StreamId::parse(id), message.spilled_path});
  ++stats_.published;
  ++lag_estimate_;
  stats_.bytes += int64_t(message.jpeg_bytes);
  if (!message.spilled_path.empty()) ++stats_.spilled;
  account_trimmed(reply_integer(replies.at(1).get()));
  return id;
}

void FramePublisher::account_lost(const StreamId& newest) {
  // The server kept our entries up to the one before `newest` (just added): the others it lost. Trimming
  // takes the oldest, never these, so they are not trimmed ones.
  auto before =
      parse_entries(redis_.command({"XREVRANGE", key_, "(" + newest.to_string(), "-", "COUNT", "1"}).get());
  std::optional<StreamId> kept;
  if (!before.empty()) kept = StreamId::parse(before[0].id);
  int64_t lost = 0;
  while (!live_.empty() && (!kept || live_.back().id > *kept)) {
    if (!live_.back().spilled_path.empty()) {
      std::error_code ignored;
      std::filesystem::remove(live_.back().spilled_path, ignored);
    }
    live_.pop_back();
    ++lost;
  }
  // The group went with the stream: at "0", the entries published since belong to it.
  bool recreated = !options_.group.empty() && ensure_group(redis_, key_, options_.group, "0");
  if (recreated)
    spdlog::warn("capture: the consumer group {} on {} was gone: created it again", options_.group, key_);
  if (lost > 0) {
    stats_.lost += lost;
    spdlog::warn(
        "capture: Redis came back without {} frames of {} (restarted without persistence?): those no worker "
        "had finished are lost ({} in total)",
        lost, key_, stats_.lost.load());
  }
}

void FramePublisher::account_trimmed(int64_t length) {
  // Entries beyond XLEN are ours and trimmed (oldest first) - assuming no other producer on this stream.
  int64_t gone = int64_t(live_.size()) - length;
  if (gone <= 0) return;
  auto groups = read_groups(redis_, key_);
  std::optional<StreamId> slowest;
  for (const auto& g : groups) slowest = slowest ? std::min(*slowest, g.last_delivered) : g.last_delivered;
  int64_t unread = 0;
  for (int64_t i = 0; i < gone; ++i) {
    const auto& p = live_.front();
    if (!slowest || p.id > *slowest) ++unread;
    if (!p.spilled_path.empty()) {
      std::error_code ignored;
      std::filesystem::remove(p.spilled_path, ignored);
    }
    live_.pop_front();
  }
  stats_.trimmed += gone;
  if (unread > 0) {
    stats_.trimmed_unread += unread;
    spdlog::warn(
        "capture: {} frames of {} trimmed before any consumer read them ({} in total): consumers are "
        "slower than the source; add workers or raise --maxlen",
        unread, key_, stats_.trimmed_unread.load());
  }
}

}  // namespace sf
