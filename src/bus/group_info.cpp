#include "bus/group_info.hpp"

#include "bus/stream_keys.hpp"
#include "sightflow/frame.hpp"

namespace sf {

std::vector<GroupInfo> read_groups(RedisConnection& redis, const std::string& key, bool with_pending) {
  std::vector<GroupInfo> groups;
  auto reply = redis.command_or_error({"XINFO", "GROUPS", key});
  if (reply->type == REDIS_REPLY_ERROR) {
    if (std::string_view(reply->str, reply->len).find("no such key") != std::string_view::npos) return groups;
    throw RedisError("XINFO GROUPS " + key + ": " + std::string(reply->str, reply->len));
  }
  if (reply->type != REDIS_REPLY_ARRAY) throw RedisError("unexpected XINFO GROUPS reply");
  for (size_t i = 0; i < reply->elements; ++i) {
    const auto* g = reply->element[i];
    GroupInfo info;
    info.name = reply_string(reply_field(g, "name"));
    info.consumers = reply_integer(reply_field(g, "consumers"));
    info.pending = reply_integer(reply_field(g, "pending"));
    info.last_delivered = StreamId::parse(reply_string(reply_field(g, "last-delivered-id")));
    if (const auto* lag = reply_field(g, "lag"); lag && lag->type == REDIS_REPLY_INTEGER)
      info.lag = lag->integer;
    groups.push_back(std::move(info));
  }
  if (with_pending) {
    double now_ms = unix_now() * 1000;
    for (auto& info : groups) {
      if (info.pending == 0) continue;
      auto summary = redis.command({"XPENDING", key, info.name});
      if (summary->type == REDIS_REPLY_ARRAY && summary->elements >= 2 &&
          !reply_is_nil(summary->element[1])) {
        info.oldest_pending = StreamId::parse(reply_string(summary->element[1]));
        info.oldest_pending_age_s = std::max(0.0, (now_ms - double(info.oldest_pending->ms)) / 1000);
      }
    }
  }
  return groups;
}

bool ensure_group(RedisConnection& redis, const std::string& key, const std::string& group,
                  const std::string& start_id) {
  auto reply = redis.command_or_error({"XGROUP", "CREATE", key, group, start_id, "MKSTREAM"});
  if (reply->type != REDIS_REPLY_ERROR) return true;
  std::string message(reply->str, reply->len);
  if (message.starts_with("BUSYGROUP")) return false;
  throw RedisError("XGROUP CREATE " + key + " " + group + ": " + message);
}

nlohmann::json stream_stats_json(RedisConnection& redis, const std::string& stream) {
  auto key = frames_key(stream);
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : read_groups(redis, key, true)) {
    groups.push_back({{"group", g.name},
                      {"consumers", g.consumers},
                      {"pending", g.pending},
                      {"oldest_pending_age_s", g.oldest_pending_age_s},
                      {"lag", g.lag ? nlohmann::json(*g.lag) : nlohmann::json()}});
  }
  return {{"stream", stream},
          {"length", reply_integer(redis.command({"XLEN", key}).get())},
          {"dead_letters", reply_integer(redis.command({"XLEN", dead_letter_key(stream)}).get())},
          {"groups", groups}};
}

}  // namespace sf
