#include "web/redis_feed.hpp"

#include <spdlog/spdlog.h>

#include "bus/bus_metrics.hpp"
#include "bus/frame_message.hpp"
#include "bus/group_info.hpp"
#include "bus/redis_connection.hpp"
#include "bus/stream_entry.hpp"
#include "bus/stream_keys.hpp"
#include "sightflow/metrics.hpp"

namespace sf {

namespace {

constexpr std::string_view kFramesPrefix = "sf:frames:";

std::vector<std::string> discover_streams(RedisConnection& redis) {
  std::vector<std::string> names;
  std::string cursor = "0";
  do {
    auto reply = redis.command({"SCAN", cursor, "MATCH", "sf:frames:*", "COUNT", "1000"});
    cursor = reply_string(reply->element[0]);
    const redisReply* keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; ++i)
      names.push_back(reply_string(keys->element[i]).substr(kFramesPrefix.size()));
  } while (cursor != "0");
  return names;
}

// The id of a stream's newest entry ("0-0" when empty): following starts there, so the page shows the
// newest frame at once and then everything after it.
std::string newest_id(RedisConnection& redis, const std::string& key, std::vector<StreamEntry>* newest) {
  auto entries = parse_entries(redis.command({"XREVRANGE", key, "+", "-", "COUNT", "1"}).get());
  if (entries.empty()) return "0-0";
  if (newest) *newest = entries;
  return entries.front().id;
}

}  // namespace

RedisFeed::RedisFeed(RedisEndpoint endpoint, LiveView& live, double discover_interval_s,
                     FrameDecodeOptions decode)
    : endpoint_(std::move(endpoint)),
      live_(live),
      discover_interval_s_(discover_interval_s),
      decode_(std::move(decode)) {
  thread_ = std::thread([this] { loop(); });
}

RedisFeed::~RedisFeed() {
  stopping_ = true;
  thread_.join();
}

void RedisFeed::add_metrics(MetricFamilies& out) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, stats] : stream_stats_) add_bus_stream_metrics(out, stats);
}

void RedisFeed::loop() {
  RedisRetryPolicy retry;
  retry.io_timeout_s = 5;
  retry.give_up_s = 2;                         // come back to check stopping_; the outer loop keeps trying
  std::map<std::string, std::string> cursors;  // key -> last id read
  double next_discovery = 0;
  while (!stopping_) {
    try {
      RedisConnection redis(endpoint_, retry);
      while (!stopping_) {
        if (steady_now() >= next_discovery) {
          for (const auto& name : discover_streams(redis)) {
            std::lock_guard lock(mutex_);
            stream_stats_[name] = stream_stats_json(redis, name);
            if (cursors.count(frames_key(name))) continue;
            std::vector<StreamEntry> newest;
            cursors[frames_key(name)] = newest_id(redis, frames_key(name), &newest);
            cursors[results_key(name)] = newest_id(redis, results_key(name), nullptr);
            try {
              if (!newest.empty())
                live_.publish_frame(name, decode_frame_message(name, newest.front(), decode_).image);
            } catch (const std::exception& e) {
              spdlog::warn("web: {} entry {}: {}", frames_key(name), newest.front().id, e.what());
            }
            spdlog::info("web: following stream {} from Redis", name);
          }
          next_discovery = steady_now() + discover_interval_s_;
        }
        if (cursors.empty()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        std::vector<std::string> args = {"XREAD", "COUNT", "100", "BLOCK", "500", "STREAMS"};
        for (const auto& [key, id] : cursors) args.push_back(key);
        for (const auto& [key, id] : cursors) args.push_back(id);
        auto reply = redis.command(RedisCommand(args.begin(), args.end()));
        if (reply_is_nil(reply.get())) continue;
        for (size_t i = 0; i < reply->elements; ++i) {
          auto key = reply_string(reply->element[i]->element[0]);
          auto entries = parse_entries(reply->element[i]->element[1]);
          if (entries.empty()) continue;
          cursors[key] = entries.back().id;
          if (key.rfind(kFramesPrefix, 0) == 0) {
            // Only the newest frame matters to a viewer; older ones in the batch are skipped undecoded.
            auto name = key.substr(kFramesPrefix.size());
            try {
              live_.publish_frame(name, decode_frame_message(name, entries.back(), decode_).image);
              frames_ += int64_t(entries.size());
            } catch (const std::exception& e) {
              spdlog::warn("web: {} entry {}: {}", key, entries.back().id, e.what());
            }
            continue;
          }
          for (const auto& entry : entries) {
            const std::string* json = entry.field("json");
            try {
              if (!json) throw std::invalid_argument("no json field");
              live_.publish_result(result_from_json(nlohmann::json::parse(*json)));
              ++results_;
            } catch (const std::exception& e) {
              spdlog::warn("web: {} entry {}: {}", key, entry.id, e.what());
            }
          }
        }
      }
    } catch (const std::exception& e) {
      if (stopping_) break;
      spdlog::warn("web: reading Redis at {}: {}; retrying", endpoint_.describe(), e.what());
      for (int i = 0; i < 20 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace sf
