// The bus's transport rate against the raw XADD rate of the same payloads. Decodes a video and encodes its
// frames into memory first with sf::encode_frame_message (JPEG quality 90 and the fields capture writes), so
// neither decoding nor encoding is timed; then, timed:
//
//   --mode raw (default)  one hiredis client XADDs the messages, one command per round trip: the ceiling.
//   --mode bus            sightflow's transport: one producer thread publishes them with sf::FramePublisher
//                         (XADD MAXLEN ~ + XLEN, backpressure on), and --consumers N threads (1 or 2) each
//                         on its own sf::RedisConnection do what a worker sends, without decoding:
//                         XREADGROUP GROUP workers cN COUNT 4 BLOCK 100 STREAMS KEY >, parse_read_reply,
//                         then one XACK with the batch's IDs. Timed from the first publish to the last ack.
//
// --passes P sends the frames P times over (the same messages: seq repeats), for a longer timed window. The
// key is deleted first. Prints one JSON line; bench/bus_bench.sh runs it against a private redis-server.
//
//   xadd_bench --port P [--host H] [--mode raw|bus] [--consumers N] [--frames N] [--passes P]
//              [--maxlen N] [--video FILE] [--quality Q] [--key KEY] [--stream NAME]
#include <hiredis/hiredis.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <opencv2/videoio.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bus/frame_message.hpp"
#include "bus/frame_publisher.hpp"
#include "bus/redis_connection.hpp"
#include "bus/redis_url.hpp"
#include "bus/stream_entry.hpp"
#include "bus/stream_keys.hpp"
#include "sightflow/frame.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string mode = "raw";
  int consumers = 1;
  long frames = 0;  // 0: all
  int passes = 1;
  long maxlen = 10000;
  std::string video = SIGHTFLOW_DEFAULT_VIDEO;
  int quality = 90;
  std::string key = "sf:frames:rawbench";  // raw mode
  std::string stream = "busbench";         // bus mode: key sf:frames:NAME
};

int usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s --port P [--host H] [--mode raw|bus] [--consumers N (bus: 1 or 2)] [--frames N (0: "
               "all)] [--passes P] [--maxlen N] [--video FILE] [--quality Q] [--key KEY (raw)] [--stream "
               "NAME (bus)]\n",
               self);
  return 2;
}

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Raw: one hiredis client, XADD MAXLEN ~ of each message's fields, one command per round trip.
double run_raw(const Options& o, const std::vector<sf::FrameMessage>& messages) {
  std::unique_ptr<redisContext, decltype(&redisFree)> redis(redisConnect(o.host.c_str(), o.port), &redisFree);
  if (!redis || redis->err)
    throw std::runtime_error("cannot connect to " + o.host + ":" + std::to_string(o.port) + ": " +
                             (redis ? redis->errstr : "out of memory"));
  auto run = [&](std::vector<const char*>& argv_c, std::vector<size_t>& lens) {
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(redis.get(), int(argv_c.size()), argv_c.data(), lens.data()));
    if (!reply) throw std::runtime_error(std::string(argv_c[0]) + ": " + redis->errstr);
    std::string error = reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "";
    freeReplyObject(reply);
    if (!error.empty()) throw std::runtime_error(std::string(argv_c[0]) + ": " + error);
  };
  std::vector<const char*> argv_c = {"DEL", o.key.c_str()};
  std::vector<size_t> lens = {3, o.key.size()};
  run(argv_c, lens);

  // The argument vectors are built before timing: only the round trips are timed.
  const std::string maxlen = std::to_string(o.maxlen);
  std::vector<std::vector<const char*>> argvs;
  std::vector<std::vector<size_t>> lenss;
  for (const auto& m : messages) {
    std::vector<const char*> a = {"XADD", o.key.c_str(), "MAXLEN", "~", maxlen.c_str(), "*"};
    std::vector<size_t> l = {4, o.key.size(), 6, 1, maxlen.size(), 1};
    for (const auto& [name, value] : m.fields) {
      a.push_back(name.data());
      l.push_back(name.size());
      a.push_back(value.data());
      l.push_back(value.size());
    }
    argvs.push_back(std::move(a));
    lenss.push_back(std::move(l));
  }

  auto t0 = Clock::now();
  for (int pass = 0; pass < o.passes; ++pass)
    for (size_t i = 0; i < argvs.size(); ++i) run(argvs[i], lenss[i]);
  return since(t0);
}

struct BusResult {
  double seconds = 0;
  double backpressure_wait_s = 0;
  int64_t trimmed = 0;
  int64_t reads = 0, empty_reads = 0;  // XREADGROUP replies with entries / without (BLOCK timed out)
};

// Bus: sf::FramePublisher on this thread, o.consumers threads reading, parsing and acknowledging.
BusResult run_bus(const Options& o, const std::vector<sf::FrameMessage>& messages,
                  const sf::FrameMessageOptions& message_options) {
  auto endpoint = sf::parse_redis_url("redis://" + o.host + ":" + std::to_string(o.port));
  sf::RedisRetryPolicy retry;
  retry.give_up_s = 5;  // a benchmark fails rather than waits forever for a server
  const std::string key = sf::frames_key(o.stream), group = "workers";
  const int64_t total = int64_t(messages.size()) * o.passes;

  sf::RedisConnection redis(endpoint, retry);
  redis.command({"DEL", key});
  sf::PublisherOptions publisher_options;
  publisher_options.stream = o.stream;
  publisher_options.maxlen = o.maxlen;
  publisher_options.group = group;
  publisher_options.backpressure = true;
  publisher_options.message = message_options;
  sf::FramePublisher publisher(redis, publisher_options);  // creates the group at "$"

  std::atomic<int64_t> acked{0};
  std::atomic<int> ready{0};
  std::atomic<bool> failed{false};
  Clock::time_point last_ack{};  // written once, by the consumer whose ack completes the total
  std::vector<int64_t> reads(size_t(o.consumers), 0), empty_reads(size_t(o.consumers), 0);
  std::vector<std::thread> consumers;
  for (int c = 0; c < o.consumers; ++c) {
    consumers.emplace_back([&, c] {
      try {
        sf::RedisConnection connection(endpoint, retry);
        const std::string name = "c" + std::to_string(c + 1);
        ++ready;
        while (!failed && acked.load() < total) {
          auto reply = connection.command(
              {"XREADGROUP", "GROUP", group, name, "COUNT", "4", "BLOCK", "100", "STREAMS", key, ">"});
          auto entries = sf::parse_read_reply(reply.get());
          if (entries.empty()) {
            ++empty_reads[size_t(c)];
            continue;
          }
          ++reads[size_t(c)];
          sf::RedisCommand ack = {"XACK", key, group};
          for (const auto& e : entries) ack.push_back(e.id);
          auto n = sf::reply_integer(connection.command(ack).get());
          if (n != int64_t(entries.size()))
            throw std::runtime_error("XACK acknowledged " + std::to_string(n) + " of " +
                                     std::to_string(entries.size()) + " entries");
          if (acked.fetch_add(n) + n == total) last_ack = Clock::now();
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "xadd_bench: consumer c%d: %s\n", c + 1, e.what());
        failed = true;
        ++ready;  // never leave the producer waiting
      }
    });
  }
  while (ready.load() < o.consumers) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  auto t0 = Clock::now();
  std::string error;
  try {
    for (int pass = 0; pass < o.passes && !failed; ++pass)
      for (size_t i = 0; i < messages.size() && !failed; ++i) publisher.publish_message(messages[i]);
  } catch (const std::exception& e) {
    error = e.what();
    failed = true;
  }
  for (auto& t : consumers) t.join();
  if (!error.empty()) throw std::runtime_error("publisher: " + error);
  if (failed || acked.load() != total) throw std::runtime_error("not every frame was acknowledged");

  const auto& stats = publisher.stats();
  BusResult result{std::chrono::duration<double>(last_ack - t0).count(), stats.backpressure_wait_s.load(),
                   stats.trimmed.load()};
  for (int c = 0; c < o.consumers; ++c) {
    result.reads += reads[size_t(c)];
    result.empty_reads += empty_reads[size_t(c)];
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("xadd_bench"));  // stdout is the JSON line
  spdlog::set_level(spdlog::level::warn);
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    std::string value = argv[++i];
    try {
      if (arg == "--host")
        o.host = value;
      else if (arg == "--port")
        o.port = std::stoi(value);
      else if (arg == "--mode")
        o.mode = value;
      else if (arg == "--consumers")
        o.consumers = std::stoi(value);
      else if (arg == "--frames")
        o.frames = std::stol(value);
      else if (arg == "--passes")
        o.passes = std::stoi(value);
      else if (arg == "--maxlen")
        o.maxlen = std::stol(value);
      else if (arg == "--video")
        o.video = value;
      else if (arg == "--quality")
        o.quality = std::stoi(value);
      else if (arg == "--key")
        o.key = value;
      else if (arg == "--stream")
        o.stream = value;
      else
        return usage(argv[0]);
    } catch (const std::exception&) {
      return usage(argv[0]);
    }
  }
  if ((o.mode != "raw" && o.mode != "bus") || o.consumers < 1 || o.consumers > 2 || o.passes < 1 ||
      o.maxlen < 1)
    return usage(argv[0]);

  // Encode first: the benchmark measures Redis and the client, not the decoder or libjpeg-turbo. Both modes
  // send these very messages (the fields capture writes).
  cv::VideoCapture video(o.video);
  if (!video.isOpened()) {
    std::fprintf(stderr, "xadd_bench: cannot open %s\n", o.video.c_str());
    return 1;
  }
  double fps = video.get(cv::CAP_PROP_FPS);
  if (!(fps > 0)) fps = 25;
  sf::FrameMessageOptions message_options;
  message_options.jpeg_quality = o.quality;
  std::vector<sf::FrameMessage> messages;
  size_t video_bytes = 0;
  sf::Frame frame;
  frame.stream = o.mode == "bus" ? o.stream : "rawbench";
  auto encode_start = Clock::now();
  while ((o.frames <= 0 || long(messages.size()) < o.frames) && video.read(frame.image)) {
    frame.seq = int64_t(messages.size());
    frame.pts = double(frame.seq) / fps;
    frame.wall_ts = sf::unix_now();
    messages.push_back(sf::encode_frame_message(frame, message_options));
    if (!messages.back().spilled_path.empty()) {
      std::fprintf(stderr, "xadd_bench: frame %ld over the inline limit (spilled)\n", long(frame.seq));
      return 1;
    }
    video_bytes += messages.back().jpeg_bytes;
  }
  double encode_seconds = since(encode_start);
  if (messages.empty()) {
    std::fprintf(stderr, "xadd_bench: no frames read from %s\n", o.video.c_str());
    return 1;
  }

  const size_t frames = messages.size() * size_t(o.passes), bytes = video_bytes * size_t(o.passes);
  double seconds = 0;
  std::string extra;
  try {
    if (o.mode == "raw") {
      seconds = run_raw(o, messages);
    } else {
      auto r = run_bus(o, messages, message_options);
      seconds = r.seconds;
      // entries_per_read: the mean batch (COUNT 4 at most); each read is followed by one XACK.
      char text[256];
      std::snprintf(text, sizeof text,
                    ",\"consumers\":%d,\"backpressure_wait_s\":%.3f,\"trimmed\":%lld,\"reads\":%lld,"
                    "\"empty_reads\":%lld,\"entries_per_read\":%.2f",
                    o.consumers, r.backpressure_wait_s, static_cast<long long>(r.trimmed),
                    static_cast<long long>(r.reads), static_cast<long long>(r.empty_reads),
                    r.reads ? double(messages.size() * size_t(o.passes)) / double(r.reads) : 0.0);
      extra = text;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xadd_bench: %s\n", e.what());
    return 1;
  }

  // frames and bytes: what was timed (passes x the video's); decode_encode_fps: what decoding and
  // encoding alone allow one thread (capture does both per frame).
  std::printf(
      "{\"mode\":\"%s\"%s,\"passes\":%d,\"video_frames\":%zu,\"video_bytes\":%zu,\"frames\":%zu,\"bytes\":%"
      "zu,"
      "\"seconds\":%.4f,\"fps\":%.1f,\"mb_per_s\":%.1f,\"decode_encode_fps\":%.1f}\n",
      o.mode.c_str(), extra.c_str(), o.passes, messages.size(), video_bytes, frames, bytes, seconds,
      double(frames) / seconds, double(bytes) / 1e6 / seconds, double(messages.size()) / encode_seconds);
  return 0;
}
