#include "bus/replay.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>

#include "bus/stream_keys.hpp"

namespace sf {

std::string parse_replay_bound(const std::string& text, bool is_end) {
  if (text == "-" || text == "+") return text;
  if (text.find('T') != std::string::npos) {
    std::tm tm{};
    int consumed = 0;
    double seconds = 0;
    // Each field in its range (NaN seconds fail too), and not before 1970: stream IDs count from then.
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &seconds, &consumed) != 6 ||
        !(size_t(consumed) == text.size() || (size_t(consumed) + 1 == text.size() && text.back() == 'Z')) ||
        tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
        !(seconds >= 0 && seconds < 61))
      throw std::invalid_argument("'" + text + "' is not a UTC time like 2026-12-01T23:00:00Z");
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_sec = 0;
    auto ms = (int64_t(timegm(&tm)) * 1000) + int64_t(seconds * 1000);
    // A time bound covers the whole millisecond: the end includes every entry added in it.
    return std::to_string(ms) + (is_end ? "-18446744073709551615" : "-0");
  }
  auto id = StreamId::parse(text);
  if (text.find('-') == std::string::npos)
    return std::to_string(id.ms) + (is_end ? "-18446744073709551615" : "-0");
  return id.to_string();
}

int64_t replay_stream(RedisConnection& redis, FrameProcessor& processor, const ReplayOptions& options,
                      const std::atomic<bool>& stop) {
  auto key = frames_key(processor.options().stream);
  std::string from = options.from;
  int64_t handled = 0;
  while (!stop) {
    auto entries = parse_entries(
        redis.command({"XRANGE", key, from, options.to, "COUNT", std::to_string(options.batch)}).get());
    if (entries.empty()) break;
    auto batch = processor.process(entries);
    send_commands(redis, batch.commands);
    handled += int64_t(entries.size());
    from = "(" + entries.back().id;  // exclusive: the next page starts after the last entry
  }
  spdlog::info("replay: {} entries of {} handled", handled, key);
  return handled;
}

}  // namespace sf
