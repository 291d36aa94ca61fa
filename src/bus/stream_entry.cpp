#include "bus/stream_entry.hpp"

#include <stdexcept>

#include "bus/redis_connection.hpp"

namespace sf {

StreamId StreamId::parse(const std::string& text) {
  StreamId id;
  auto dash = text.find('-');
  try {
    size_t used = 0;
    auto ms_text = text.substr(0, dash);
    id.ms = std::stoull(ms_text, &used);
    if (used != ms_text.size() || ms_text.empty() || ms_text[0] == '-') throw std::invalid_argument(text);
    if (dash != std::string::npos) {
      auto seq_text = text.substr(dash + 1);
      id.seq = std::stoull(seq_text, &used);
      if (used != seq_text.size() || seq_text.empty() || seq_text[0] == '-')
        throw std::invalid_argument(text);
    }
  } catch (const std::exception&) {
    throw std::invalid_argument("'" + text + "' is not a stream ID (MILLISECONDS-SEQUENCE)");
  }
  return id;
}

const std::string* StreamEntry::field(const std::string& name) const {
  for (const auto& [key, value] : fields) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::vector<StreamEntry> parse_entries(const redisReply* reply) {
  std::vector<StreamEntry> entries;
  if (reply_is_nil(reply)) return entries;
  if (reply->type != REDIS_REPLY_ARRAY) throw RedisError("unexpected Redis reply: expected stream entries");
  for (size_t i = 0; i < reply->elements; ++i) {
    const auto* item = reply->element[i];
    if (item->type != REDIS_REPLY_ARRAY || item->elements != 2)
      throw RedisError("unexpected Redis reply: a stream entry is not [id, fields]");
    StreamEntry entry;
    entry.id = reply_string(item->element[0]);
    const auto* fields = item->element[1];
    if (reply_is_nil(fields)) {
      entry.deleted = true;
    } else {
      if (fields->type != REDIS_REPLY_ARRAY) throw RedisError("unexpected Redis reply: entry fields");
      for (size_t f = 0; f + 1 < fields->elements; f += 2)
        entry.fields.emplace_back(reply_string(fields->element[f]), reply_string(fields->element[f + 1]));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<StreamEntry> parse_read_reply(const redisReply* reply) {
  if (reply_is_nil(reply)) return {};
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return {};
  const auto* stream = reply->element[0];
  if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2)
    throw RedisError("unexpected Redis reply: expected [stream, entries]");
  return parse_entries(stream->element[1]);
}

}  // namespace sf
