// The Redis Streams bus against a real redis-server (started by the tests, AOF on): URLs and IDs, frame
// messages, reconnecting, backpressure and trim accounting, workers (dead letters, claims, exactly-once
// results), stream stats and replay.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <thread>

#include "bus/bus_metrics.hpp"
#include "bus/frame_message.hpp"
#include "bus/frame_publisher.hpp"
#include "bus/frame_worker.hpp"
#include "bus/group_info.hpp"
#include "bus/redis_connection.hpp"
#include "bus/replay.hpp"
#include "bus/stream_keys.hpp"
#include "http/listen.hpp"
#include "http/metrics_endpoint.hpp"
#include "image_bombs.hpp"
#include "media/jpeg_codec.hpp"
#include "redis_server.hpp"
#include "sightflow/store.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

Frame test_frame(int64_t seq, int width = 64, int height = 48) {
  Frame f;
  f.stream = "cam";
  f.seq = seq;
  f.pts = double(seq) / 10;
  f.wall_ts = unix_now();
  f.image = cv::Mat(height, width, CV_8UC3, cv::Scalar(40, 90, 160));
  cv::circle(f.image, {width / 2, height / 2}, height / 4, cv::Scalar(250, 250, 250), cv::FILLED);
  return f;
}

StreamEntry entry_of(const FrameMessage& message, const std::string& id = "1-0") {
  StreamEntry e;
  e.id = id;
  e.fields = message.fields;
  return e;
}

std::string decode_error(const StreamEntry& entry, const FrameDecodeOptions& options = {}) {
  try {
    decode_frame_message("cam", entry, options);
  } catch (const FrameMessageError& e) {
    return e.what();
  }
  return "";
}

// Finds seq % 3 people, so results differ from frame to frame.
class SeqCounter : public Algorithm {
 public:
  AlgorithmOutput run(std::span<const Frame> frames, StageTimes&) override {
    AlgorithmOutput out;
    for (int64_t i = 0; i < frames.back().seq % 3; ++i)
      out.detections.push_back({"person", 0, 0.9f, cv::Rect2f(float(i), 1, 10, 20), {}});
    return out;
  }
};

TEST(RedisUrl, ParsesHostPortDatabaseAndPassword) {
  auto e = parse_redis_url("redis://:secret@10.0.0.5:6380/2");
  EXPECT_EQ(e.host, "10.0.0.5");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.db, 2);
  EXPECT_EQ(e.password, "secret");
  EXPECT_EQ(e.describe(), "redis://10.0.0.5:6380/2");  // never the password
  auto d = parse_redis_url("redis://cache");
  EXPECT_EQ(d.host, "cache");
  EXPECT_EQ(d.port, 6379);
  EXPECT_THROW(parse_redis_url("http://x"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://x:99999"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://x:63a"), std::invalid_argument);
}

TEST(StreamIds, ParseCompareAndReplayBounds) {
  EXPECT_LT(StreamId::parse("5-1"), StreamId::parse("5-2"));
  EXPECT_LT(StreamId::parse("5-9"), StreamId::parse("6-0"));
  EXPECT_EQ(StreamId::parse("17").to_string(), "17-0");
  EXPECT_THROW(StreamId::parse("x-1"), std::invalid_argument);
  EXPECT_THROW(StreamId::parse("1-"), std::invalid_argument);
  EXPECT_EQ(parse_replay_bound("-", false), "-");
  EXPECT_EQ(parse_replay_bound("1700000000000-3", false), "1700000000000-3");
  EXPECT_EQ(parse_replay_bound("1700000000000", false), "1700000000000-0");
  EXPECT_EQ(parse_replay_bound("1700000000000", true), "1700000000000-18446744073709551615");
  EXPECT_EQ(parse_replay_bound("2023-11-14T22:13:20Z", false), "1700000000000-0");
  EXPECT_EQ(parse_replay_bound("2023-11-14T22:13:20.250", false), "1700000000250-0");
  EXPECT_THROW(parse_replay_bound("yesterday", false), std::invalid_argument);
  EXPECT_THROW(parse_replay_bound("2023-11-14T22:13", false), std::invalid_argument);
}

// Found by fuzz/replay_bound_fuzzer: NaN seconds were cast to an integer (undefined behaviour); times before
// 1970 gave a negative ID that XRANGE refuses; fields out of range were silently carried over.
TEST(StreamIds, ReplayTimesOutOfRangeAreRefused) {
  for (const char* text :
       {"2026-12-01T23:00:nan", "2026-12-01T23:00:-nan", "1969-12-31T23:59:59Z", "-999-01-01T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-12-32T00:00:00Z", "2026-12-01T24:00:00Z",
        "2026-12-01T23:60:00Z", "2026-12-01T-1:00:00Z"})
    EXPECT_THROW(parse_replay_bound(text, false), std::invalid_argument) << text;
  EXPECT_EQ(parse_replay_bound("1970-01-01T00:00:00Z", false), "0-0");
  EXPECT_EQ(parse_replay_bound("2023-11-14T22:13:60.5Z", true), "1700000040500-18446744073709551615");
}

TEST(FrameMessage, RoundTripsAFrame) {
  auto frame = test_frame(42);
  auto message = encode_frame_message(frame, {});
  EXPECT_TRUE(message.spilled_path.empty());
  auto back = decode_frame_message("cam", entry_of(message));
  EXPECT_EQ(back.seq, 42);
  EXPECT_NEAR(back.pts, 4.2, 1e-6);
  EXPECT_NEAR(back.wall_ts, frame.wall_ts, 1e-5);
  // The frame is the message's JPEG as another decoder (OpenCV's imdecode) reads it, and that JPEG is a
  // faithful copy of the image.
  const auto entry = entry_of(message);
  const std::string* data = entry.field("data");
  ASSERT_NE(data, nullptr);
  cv::Mat independent = cv::imdecode(std::vector<uchar>(data->begin(), data->end()), cv::IMREAD_COLOR);
  ASSERT_EQ(independent.size(), frame.image.size());
  ASSERT_EQ(back.image.size(), frame.image.size());
  EXPECT_EQ(cv::norm(back.image, independent, cv::NORM_INF), 0);
  EXPECT_LT(cv::norm(back.image, frame.image, cv::NORM_L1) / double(frame.image.total() * 3), 3.0);
}

TEST(FrameMessage, LargeFramesTravelByPath) {
  test::TempDir dir;
  FrameMessageOptions options;
  options.max_inline_bytes = 100;
  options.spill_dir = dir.path().string();
  auto message = encode_frame_message(test_frame(7), options);
  ASSERT_FALSE(message.spilled_path.empty());
  EXPECT_TRUE(std::filesystem::exists(message.spilled_path));
  auto entry = entry_of(message);
  EXPECT_EQ(entry.field("data"), nullptr);
  ASSERT_NE(entry.field("path"), nullptr);
  FrameDecodeOptions reader;
  reader.spill_dir = dir.path().string();
  EXPECT_EQ(decode_frame_message("cam", entry, reader).seq, 7);
  // A reader without a spill folder takes no frame by path.
  EXPECT_EQ(decode_error(entry), "path: frames sent by path are not accepted here (no spill folder)");
  std::filesystem::remove(message.spilled_path);
  EXPECT_NE(decode_error(entry, reader).find("cannot read"), std::string::npos);
}

// Anyone who can write to Redis can name a path: only regular files inside the spill folder are read,
// and a reason never quotes a file's bytes.
TEST(FrameMessage, APathOutsideTheSpillFolderIsRefusedWithoutReadingIt) {
  test::TempDir dir;
  const auto spill = dir / "spill";
  std::filesystem::create_directories(spill / "cam");
  std::ofstream(dir / "secret.jpg") << "SECRET-PASSWORD";
  std::ofstream(spill / "cam" / "notes.jpg") << "SECRET-PASSWORD";
  std::filesystem::create_symlink(dir / "secret.jpg", spill / "cam" / "link.jpg");
  FrameDecodeOptions reader;
  reader.spill_dir = spill.string();
  auto message_naming = [](const std::string& path) {
    auto entry = entry_of(encode_frame_message(test_frame(1), {}));
    std::erase_if(entry.fields, [](const auto& f) { return f.first == "data"; });
    entry.fields.emplace_back("path", path);
    return entry;
  };
  const std::string outside = " is outside the spill folder " + spill.string();
  const std::pair<std::string, std::string> refused[] = {
      {"/etc/passwd", "path: /etc/passwd" + outside},
      {(dir / "secret.jpg").string(), "path: " + (dir / "secret.jpg").string() + outside},
      {(spill / ".." / "secret.jpg").string(), "path: " + (spill / ".." / "secret.jpg").string() + outside},
      {"relative/secret.jpg", "path: relative/secret.jpg" + outside},
      {(spill / "cam" / "link.jpg").string(), "path: " + (spill / "cam" / "link.jpg").string() +
                                                  " leads outside the spill folder " + spill.string() +
                                                  " (a link)"},
      {(spill / "cam" / "notes.jpg").string(), "JPEG: not a decodable image (JPEG, PNG, BMP, TIFF, WebP)"}};
  for (const auto& [path, reason] : refused) {
    auto error = decode_error(message_naming(path), reader);
    EXPECT_EQ(error, reason);
    EXPECT_EQ(error.find("SECRET"), std::string::npos) << error;
  }
  // A file over the size bound is not read either.
  reader.max_spill_bytes = 10;
  EXPECT_EQ(
      decode_error(message_naming((spill / "cam" / "notes.jpg").string()), reader),
      "path: " + (spill / "cam" / "notes.jpg").string() + " is larger than 10 bytes (--max-spill-bytes)");
}

// A device or a FIFO would be read without end (or waited on forever): never opened for reading.
TEST(FrameMessage, ADeviceOrAFifoIsNeverRead) {
  test::TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo.jpg").c_str(), 0600), 0);
  auto entry = entry_of(encode_frame_message(test_frame(1), {}));
  std::erase_if(entry.fields, [](const auto& f) { return f.first == "data"; });
  entry.fields.emplace_back("path", (dir / "fifo.jpg").string());
  FrameDecodeOptions reader;
  reader.spill_dir = dir.path().string();
  EXPECT_EQ(decode_error(entry, reader), "path: " + (dir / "fifo.jpg").string() + " is not a regular file");
  entry.fields.back().second = "/dev/zero";
  reader.spill_dir = "/dev";  // a careless setting: still no endless read
  EXPECT_EQ(decode_error(entry, reader), "path: /dev/zero is not a regular file");
  reader.spill_dir = dir.path().string();
  EXPECT_EQ(decode_error(entry, reader),
            "path: /dev/zero is outside the spill folder " + dir.path().string());
}

TEST(FrameMessage, SizesOverThePixelLimitAreRefusedBeforeDecoding) {
  auto good = entry_of(encode_frame_message(test_frame(1), {}));
  auto with = [&](std::vector<std::pair<std::string, std::string>> changes) {
    auto e = good;
    for (auto& [k, v] : e.fields)
      for (const auto& [name, value] : changes)
        if (k == name) v = value;
    return e;
  };
  const auto bomb = test::jpeg_declaring(20000, 20000);
  EXPECT_EQ(decode_error(with({{"width", "20000"}, {"height", "20000"}, {"data", bomb}})),
            "frame size 20000x20000 is over the limit of 40000000 pixels (--max-pixels)");
  // The message's size is checked against the JPEG's header, not the decoded image.
  EXPECT_EQ(decode_error(with({{"data", bomb}})), "the JPEG is 20000x20000 but the message says 64x48");
  EXPECT_EQ(decode_error(with({{"data", test::png_declaring(64, 48)}})), "the image is a PNG, not a JPEG");
  test::ScopedPixelLimit limit(1000);
  EXPECT_EQ(decode_error(good), "frame size 64x48 is over the limit of 1000 pixels (--max-pixels)");
}

TEST(FrameMessage, SaysWhatIsWrongWithABadMessage) {
  auto good = entry_of(encode_frame_message(test_frame(1), {}));
  auto with = [&](const std::string& name, const std::string& value) {
    auto e = good;
    for (auto& [k, v] : e.fields)
      if (k == name) v = value;
    return e;
  };
  auto without = [&](const std::string& name) {
    auto e = good;
    std::erase_if(e.fields, [&](const auto& f) { return f.first == name; });
    return e;
  };
  EXPECT_EQ(decode_error(good), "");
  EXPECT_EQ(decode_error(without("seq")), "missing field 'seq'");
  EXPECT_EQ(decode_error(with("width", "wide")), "field 'width' is not a number: 'wide'");
  EXPECT_EQ(decode_error(with("enc", "png")), "encoding 'png' is not supported (jpeg)");
  EXPECT_NE(decode_error(with("width", "65")).find("the message says 65x48"), std::string::npos);
  auto data = *good.field("data");
  EXPECT_NE(decode_error(with("data", data.substr(0, data.size() / 2))).find("JPEG: "), std::string::npos);
  EXPECT_EQ(decode_error(without("data")), "neither 'data' nor 'path' is present");
}

class Bus : public ::testing::Test {
 protected:
  RedisConnection connect(double give_up_s = 30) {
    RedisRetryPolicy retry;
    retry.give_up_s = give_up_s;
    return RedisConnection(parse_redis_url(server.url()), retry);
  }
  // Stream "cam", spilled frames into the test's folder.
  PublisherOptions publisher_options(int64_t maxlen = 10000) {
    PublisherOptions options;
    options.stream = "cam";
    options.maxlen = maxlen;
    options.message.spill_dir = dir.path().string();
    return options;
  }
  int64_t xlen(RedisConnection& r, const std::string& key) {
    return reply_integer(r.command({"XLEN", key}).get());
  }
  // How many times the server ran `command` ("xinfo|groups": INFO commandstats names subcommands so).
  int64_t calls(RedisConnection& r, const std::string& command) {
    const std::string info = reply_string(r.command({"INFO", "commandstats"}).get());
    const std::string field = "cmdstat_" + command + ":calls=";
    const auto at = info.find(field);
    return at == std::string::npos ? 0 : std::stoll(info.substr(at + field.size()));
  }

  test::RedisServer server;
  test::TempDir dir;
};

TEST_F(Bus, ACommandSurvivesARestartedServer) {
  auto redis = connect();
  redis.command({"SET", "k", "before"});
  server.stop();
  std::thread restart([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    server.start();
  });
  // Sent while the server is down: retried until it is back; the AOF kept the key.
  auto reply = redis.command({"GET", "k"});
  restart.join();
  EXPECT_EQ(reply_string(reply.get()), "before");
  EXPECT_EQ(redis.reconnects(), 1);
}

TEST_F(Bus, GivesUpOnAServerThatStaysAway) {
  auto redis = connect(0.5);
  server.stop();
  try {
    redis.command({"PING"});
    FAIL() << "no error";
  } catch (const RedisUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("gave up"), std::string::npos) << e.what();
  }
}

TEST_F(Bus, ServerErrorsNameTheCommand) {
  auto redis = connect();
  redis.command({"SET", "s", "x"});
  try {
    redis.command({"XADD", "s", "*", "a", "b"});
    FAIL() << "no error";
  } catch (const RedisError& e) {
    EXPECT_NE(std::string(e.what()).find("XADD: WRONGTYPE"), std::string::npos) << e.what();
  }
}

TEST_F(Bus, OfflinePublishingWaitsForTheConsumersAndLosesNothing) {
  auto redis = connect();
  FramePublisher publisher(redis, publisher_options(100));
  std::atomic<int64_t> sent{0};
  std::thread producer([&] {
    for (int i = 0; i < 400; ++i) {
      publisher.publish(test_frame(i));
      ++sent;
    }
  });
  // With nobody reading, the producer stops near the high-water mark (80 of 100). Waited for, not timed:
  // 80 publishes to a server that fsyncs each one take seconds on a loaded machine (the bound is 2 min).
  auto observer = connect();
  for (int i = 0; i < 6000 && sent < 80; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GE(sent.load(), 80);
  // While it waits, the producer polls the group's lag (XINFO GROUPS) with growing sleeps (5, 10, ... ms):
  // eight more polls mean it has waited at least 5 + 10 + ... + 35 ms = 0.14 s without publishing more.
  const int64_t polls = calls(observer, "xinfo|groups");
  for (int i = 0; i < 6000 && calls(observer, "xinfo|groups") < polls + 8; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GE(calls(observer, "xinfo|groups"), polls + 8) << "the producer never waited for the consumers";
  EXPECT_GE(sent.load(), 80);
  EXPECT_LE(sent.load(), 81);
  // A consumer reads everything; the producer finishes.
  auto reader = connect();
  std::set<int64_t> seen;
  for (int i = 0; i < 2000 && seen.size() < 400; ++i) {
    auto entries = parse_read_reply(reader
                                        .command({"XREADGROUP", "GROUP", "workers", "c1", "COUNT", "50",
                                                  "BLOCK", "100", "STREAMS", frames_key("cam"), ">"})
                                        .get());
    for (const auto& e : entries) {
      seen.insert(std::stoll(*e.field("seq")));
      reader.command({"XACK", frames_key("cam"), "workers", e.id});
    }
  }
  producer.join();
  EXPECT_EQ(seen.size(), 400u);
  EXPECT_EQ(publisher.stats().trimmed_unread, 0);
  EXPECT_GT(publisher.stats().backpressure_wait_s, 0.1);
}

// Ctrl-C or SIGTERM while capture waits for consumers that do not read: the interrupt ends the wait.
TEST_F(Bus, AnInterruptEndsTheWaitForConsumers) {
  auto redis = connect();
  FramePublisher publisher(redis, publisher_options(100));
  std::atomic<int64_t> sent{0};
  std::atomic<bool> interrupted{false}, done{false};
  std::thread producer([&] {
    try {
      for (int i = 0; i < 400; ++i) {
        publisher.publish(test_frame(i));
        ++sent;
      }
    } catch (const RedisUnavailable&) {
      interrupted = true;
    }
    done = true;
  });
  for (int i = 0; i < 1500 && sent < 80; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  redis.interrupt();
  for (int i = 0; i < 1500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const bool ended_by_interrupt = done;
  // Should it still wait, a consumer reads everything so that the producer can be joined.
  auto reader = connect();
  for (int i = 0; i < 4000 && !done; ++i) {
    for (const auto& e : parse_read_reply(reader
                                              .command({"XREADGROUP", "GROUP", "workers", "c1", "COUNT", "50",
                                                        "BLOCK", "100", "STREAMS", frames_key("cam"), ">"})
                                              .get()))
      reader.command({"XACK", frames_key("cam"), "workers", e.id});
  }
  producer.join();
  EXPECT_TRUE(ended_by_interrupt);
  EXPECT_TRUE(interrupted);
  EXPECT_GE(sent.load(), 80);
  EXPECT_LT(sent.load(), 400);
}

TEST_F(Bus, OfflinePublishingAlsoWaitsForEntriesReadButNotAcknowledged) {
  auto redis = connect();
  FramePublisher publisher(redis, publisher_options(100));
  for (int i = 0; i < 5; ++i) publisher.publish(test_frame(i));
  // A slow consumer holds the first five entries unacknowledged; a fast one takes and acknowledges the rest.
  auto slow = connect();
  auto held = parse_read_reply(slow.command({"XREADGROUP", "GROUP", "workers", "slow", "COUNT", "5",
                                             "STREAMS", frames_key("cam"), ">"})
                                   .get());
  ASSERT_EQ(held.size(), 5u);
  std::atomic<int64_t> sent{5};
  std::thread producer([&] {
    for (int i = 5; i < 300; ++i) {
      publisher.publish(test_frame(i));
      ++sent;
    }
  });
  auto fast = connect();
  auto drain = [&] {
    auto entries = parse_read_reply(fast.command({"XREADGROUP", "GROUP", "workers", "fast", "COUNT", "50",
                                                  "BLOCK", "50", "STREAMS", frames_key("cam"), ">"})
                                        .get());
    for (const auto& e : entries) fast.command({"XACK", frames_key("cam"), "workers", e.id});
  };
  for (int i = 0; i < 40; ++i) drain();
  // MAXLEN would trim the held entries: the producer waits instead, with the group's lag near zero.
  EXPECT_LE(sent.load(), 81);
  for (const auto& e : held) slow.command({"XACK", frames_key("cam"), "workers", e.id});
  for (int i = 0; i < 400 && sent < 300; ++i) drain();
  producer.join();
  EXPECT_EQ(publisher.stats().trimmed_unread, 0);
}

TEST_F(Bus, RealTimePublishingCountsEveryFrameTrimmedUnread) {
  auto redis = connect();
  // A group that reads the first 30 entries, then nothing.
  ensure_group(redis, frames_key("cam"), "workers", "$");
  auto options = publisher_options(100);
  options.backpressure = false;
  options.message.max_inline_bytes = 1000;  // every frame goes by path: trimmed ones lose their file
  FramePublisher publisher(redis, options);
  for (int i = 0; i < 30; ++i) publisher.publish(test_frame(i, 160, 120));
  redis.command({"XREADGROUP", "GROUP", "workers", "c1", "COUNT", "30", "STREAMS", frames_key("cam"), ">"});
  for (int i = 30; i < 500; ++i) publisher.publish(test_frame(i, 160, 120));
  const auto& s = publisher.stats();
  EXPECT_EQ(s.published, 500);
  EXPECT_EQ(s.spilled, 500);
  EXPECT_EQ(s.trimmed + xlen(redis, frames_key("cam")), 500);
  EXPECT_GT(s.trimmed, 300);
  EXPECT_EQ(s.trimmed_unread, s.trimmed - 30);  // the 30 read ones were trimmed too, but read
  size_t files = 0;
  for (auto& f : std::filesystem::recursive_directory_iterator(dir.path())) files += f.is_regular_file();
  EXPECT_EQ(int64_t(files), xlen(redis, frames_key("cam")));
}

TEST_F(Bus, WorkerDeadLettersBadMessagesAndGoesOn) {
  auto redis = connect();
  FramePublisher publisher(redis, publisher_options());
  for (int i = 0; i < 3; ++i) publisher.publish(test_frame(i));
  redis.command({"XADD", frames_key("cam"), "*", "seq", "3", "enc", "jpeg"});
  redis.command({"XADD", frames_key("cam"), "*", "garbage", "yes"});
  for (int i = 5; i < 8; ++i) publisher.publish(test_frame(i));

  auto store = std::shared_ptr<Store>(open_store((dir / "r.db").string()));
  FrameProcessor processor(std::make_unique<SeqCounter>(), store, {"cam", "counter"});
  WorkerOptions wo;
  wo.consumer = "w1";
  wo.idle_exit_s = 0.3;
  wo.block_s = 0.1;
  FrameWorker worker(redis, processor, wo);
  std::atomic<bool> stop{false};
  worker.run(stop);
  EXPECT_EQ(processor.stats().processed, 6);
  EXPECT_EQ(processor.stats().dead_lettered, 2);
  auto dead = parse_entries(redis.command({"XRANGE", dead_letter_key("cam"), "-", "+"}).get());
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(*dead[0].field("reason"), "missing field 'pts'");
  EXPECT_EQ(*dead[1].field("reason"), "missing field 'seq'");
  EXPECT_EQ(*dead[1].field("msg:garbage"), "yes");
  // Everything was acknowledged; results went to the stream and the store, with their contents.
  auto groups = read_groups(redis, frames_key("cam"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].pending, 0);
  auto results = parse_entries(redis.command({"XRANGE", results_key("cam"), "-", "+"}).get());
  ASSERT_EQ(results.size(), 6u);
  for (const auto& r : results) {
    auto seq = std::stoll(*r.field("frame"));
    EXPECT_EQ(*r.field("algo"), "counter");
    EXPECT_EQ(std::stoll(*r.field("count")), seq % 3);
    auto json = nlohmann::json::parse(*r.field("json"));
    EXPECT_EQ(json["frame"], seq);
    EXPECT_EQ(json["detections"].size(), size_t(seq % 3));
  }
  EXPECT_EQ(store->query("SELECT count(*), sum(count) FROM results").rows[0],
            (std::vector<nlohmann::json>{6, 0 + 1 + 2 + 2 + 0 + 1}));
}

// As RedisEdge's results do, each result names the frame entry it was computed on (`ref`), so a consumer
// of results finds the image: XRANGE of that ID gives the frame, while the stream retains it. Replayed
// results name their frames too.
TEST_F(Bus, ResultsCarryTheirFramesEntryIdAsRef) {
  auto redis = connect();
  FramePublisher publisher(redis, publisher_options());
  std::map<int64_t, std::string> ids;  // seq -> frame entry
  for (int i = 0; i < 6; ++i) ids[i] = publisher.publish(test_frame(i, 80 + 2 * i));
  FrameProcessor processor(std::make_unique<SeqCounter>(), nullptr, {"cam", "counter"});
  WorkerOptions wo;
  wo.idle_exit_s = 0.3;
  wo.block_s = 0.1;
  FrameWorker(redis, processor, wo).run(std::atomic<bool>{false});
  FrameProcessor replayer(std::make_unique<SeqCounter>(), nullptr, {"cam", "again"});
  ReplayOptions range;
  range.from = ids[2];
  EXPECT_EQ(replay_stream(redis, replayer, range, std::atomic<bool>{false}), 4);

  auto results = parse_entries(redis.command({"XRANGE", results_key("cam"), "-", "+"}).get());
  ASSERT_EQ(results.size(), 10u);
  for (const auto& r : results) {
    auto seq = std::stoll(*r.field("frame"));
    const std::string* ref = r.field("ref");
    ASSERT_TRUE(ref) << "result of frame " << seq << " has no ref";
    EXPECT_EQ(*ref, ids[seq]) << *r.field("algo");
    auto frame = parse_entries(redis.command({"XRANGE", frames_key("cam"), *ref, *ref}).get());
    ASSERT_EQ(frame.size(), 1u);
    auto decoded = decode_frame_message("cam", frame[0]);
    EXPECT_EQ(decoded.seq, seq);
    EXPECT_EQ(decoded.image.cols, 80 + 2 * seq);
  }
}

TEST_F(Bus, AWorkerClaimsWhatADeadConsumerLeftAndResultsStayExactlyOnce) {
  auto redis = connect();
  FramePublisher publisher(redis, publisher_options());
  for (int i = 0; i < 20; ++i) publisher.publish(test_frame(i));
  auto store = std::shared_ptr<Store>(open_store((dir / "r.db").string()));
  {
    // A first worker handles 8 entries, then reads 4 more and "dies" before acknowledging them, but after
    // storing two of their results (the crash fell between the store and the XACK).
    FrameProcessor processor(std::make_unique<SeqCounter>(), store, {"cam", "counter"});
    WorkerOptions wo;
    wo.consumer = "doomed";
    wo.max_frames = 8;
    FrameWorker(redis, processor, wo).run(std::atomic<bool>{false});
    auto taken = parse_read_reply(redis
                                      .command({"XREADGROUP", "GROUP", "workers", "doomed", "COUNT", "4",
                                                "STREAMS", frames_key("cam"), ">"})
                                      .get());
    ASSERT_EQ(taken.size(), 4u);
    processor.process({taken[0], taken[1]});
  }
  EXPECT_EQ(read_groups(redis, frames_key("cam"))[0].pending, 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto stats = stream_stats_json(redis, "cam");
  EXPECT_EQ(stats["groups"][0]["pending"], 4);
  EXPECT_GE(stats["groups"][0]["oldest_pending_age_s"].get<double>(), 0.3);

  FrameProcessor processor(std::make_unique<SeqCounter>(), store, {"cam", "counter"});
  WorkerOptions wo;
  wo.consumer = "survivor";
  wo.claim_idle_s = 0.2;
  wo.claim_interval_s = 0.2;
  wo.block_s = 0.1;
  wo.idle_exit_s = 0.5;
  FrameWorker survivor(redis, processor, wo);
  survivor.run(std::atomic<bool>{false});
  auto json = survivor.stats_json();
  EXPECT_EQ(json["claimed"], 4);
  EXPECT_EQ(json["processed"], 12);
  EXPECT_EQ(json["stored_new"], 10);  // two of the claimed ones were already stored
  auto rows =
      store->query("SELECT count(*), count(DISTINCT frame), min(frame), max(frame) FROM results").rows[0];
  EXPECT_EQ(rows, (std::vector<nlohmann::json>{20, 20, 0, 19}));
  EXPECT_EQ(read_groups(redis, frames_key("cam"))[0].pending, 0);
}

TEST_F(Bus, AnEntryThatStopsEveryWorkerIsDeadLetteredAfterMaxDeliveries) {
  auto redis = connect();
  FramePublisher publisher(redis, publisher_options());
  auto poison = publisher.publish(test_frame(0));
  publisher.publish(test_frame(1));
  // Two workers took the first entry and never acknowledged it (each crashed on it); the second entry
  // was taken once.
  redis.command(
      {"XREADGROUP", "GROUP", "workers", "crashed-1", "COUNT", "2", "STREAMS", frames_key("cam"), ">"});
  redis.command({"XCLAIM", frames_key("cam"), "workers", "crashed-2", "0", poison});
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  FrameProcessor processor(std::make_unique<SeqCounter>(), nullptr, {"cam", "counter", 100000, 0, 2});
  WorkerOptions wo;
  wo.claim_idle_s = 0.1;
  wo.claim_interval_s = 0.1;
  wo.block_s = 0.1;
  wo.idle_exit_s = 0.3;
  FrameWorker worker(redis, processor, wo);
  worker.run(std::atomic<bool>{false});
  EXPECT_EQ(worker.stats_json()["claimed"], 2);
  EXPECT_EQ(processor.stats().processed, 1);
  EXPECT_EQ(processor.stats().dead_lettered, 1);
  auto dead = parse_entries(redis.command({"XRANGE", dead_letter_key("cam"), "-", "+"}).get());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(*dead[0].field("id"), poison);
  EXPECT_NE(dead[0].field("reason")->find("delivered 3 times without being acknowledged"), std::string::npos)
      << *dead[0].field("reason");
  EXPECT_EQ(read_groups(redis, frames_key("cam"))[0].pending, 0);
}

TEST_F(Bus, ReplayRunsRetainedFramesUnderANewNameAndLeavesTheOldResults) {
  auto redis = connect();
  FramePublisher publisher(redis, publisher_options());
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(publisher.publish(test_frame(i)));
  auto store = std::shared_ptr<Store>(open_store((dir / "r.db").string()));
  {
    FrameProcessor processor(std::make_unique<NoopAlgorithm>(), store, {"cam", "old"});
    WorkerOptions wo;
    wo.idle_exit_s = 0.3;
    wo.block_s = 0.1;
    FrameWorker(redis, processor, wo).run(std::atomic<bool>{false});
  }
  FrameProcessor processor(std::make_unique<SeqCounter>(), store, {"cam", "new"});
  ReplayOptions range;
  range.from = ids[2];
  range.to = ids[8];
  range.batch = 3;
  EXPECT_EQ(replay_stream(redis, processor, range, std::atomic<bool>{false}), 7);
  auto old_rows = store->query("SELECT count(*) FROM results WHERE algo = 'old'").rows[0][0];
  auto new_rows =
      store->query("SELECT min(frame), max(frame), count(*), sum(count) FROM results WHERE algo = 'new'");
  EXPECT_EQ(old_rows, 10);
  EXPECT_EQ(new_rows.rows[0], (std::vector<nlohmann::json>{2, 8, 7, 2 + 0 + 1 + 2 + 0 + 1 + 2}));
  // The live group is untouched: nothing pending, nothing new to deliver.
  auto groups = read_groups(redis, frames_key("cam"));
  EXPECT_EQ(groups[0].pending, 0);
  EXPECT_EQ(groups[0].lag.value_or(-1), 0);
}

// A Redis restarted without persistence comes back empty: no stream, no group. Workers and capture make
// the group again and go on; capture counts the frames the server lost as lost, not as trimmed unread.
TEST(BusRestart, WithoutPersistenceTheGroupIsMadeAgainAndTheLostFramesAreCountedAsLost) {
  test::RedisServer server(test::RedisServer::Persistence::None);
  test::TempDir dir;
  RedisRetryPolicy retry;
  retry.give_up_s = 30;
  RedisConnection capture_redis(parse_redis_url(server.url()), retry);
  RedisConnection worker_redis(parse_redis_url(server.url()), retry);
  PublisherOptions options;
  options.stream = "cam";
  options.message.spill_dir = dir.path().string();
  FramePublisher publisher(capture_redis, options);
  auto store = std::shared_ptr<Store>(open_store((dir / "r.db").string()));
  FrameProcessor processor(std::make_unique<SeqCounter>(), store, {"cam", "counter"});
  WorkerOptions wo;
  wo.consumer = "w";
  wo.block_s = 0.1;
  wo.idle_exit_s = 0.3;
  FrameWorker worker(worker_redis, processor, wo);
  auto work = [&] { worker.run(std::atomic<bool>{false}); };
  auto stored = [&] { return store->query("SELECT count(*), min(frame), max(frame) FROM results").rows[0]; };
  auto publish = [&](int from, int to) {
    for (int i = from; i < to; ++i) publisher.publish(test_frame(i));
  };

  publish(0, 10);
  work();
  publish(10, 16);  // published, never read: the restart loses them
  server.stop();
  server.start();
  publish(16, 20);
  auto capture = publisher.stats().to_json();
  EXPECT_EQ(capture["lost"], 16) << capture;  // 0..9 were processed, 10..15 never will be
  EXPECT_EQ(capture["trimmed"], 0) << capture;
  EXPECT_EQ(capture["trimmed_unread"], 0) << capture;
  // Capture made the group again at the new stream's start: the worker gets frames 16..19.
  auto groups = read_groups(capture_redis, frames_key("cam"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].name, "workers");
  work();
  EXPECT_EQ(stored(), (std::vector<nlohmann::json>{14, 0, 19}));

  // Now the worker is first to find the group gone (NOGROUP): it makes it again and goes on.
  server.stop();
  server.start();
  work();
  EXPECT_EQ(worker.stats_json()["groups_recreated"], 1) << worker.stats_json();
  publish(20, 23);
  work();
  EXPECT_EQ(stored(), (std::vector<nlohmann::json>{17, 0, 22}));
  capture = publisher.stats().to_json();
  EXPECT_EQ(capture["lost"], 20) << capture;  // the four of the second stream, all processed
  EXPECT_EQ(capture["trimmed_unread"], 0) << capture;
  EXPECT_EQ(worker.stats_json()["processed"], 17);
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

TEST(BusMetrics, WorkerAndGroupFiguresInPrometheusText) {
  nlohmann::json worker = {{"consumer", "w\"1"}, {"group", "workers"}, {"processed", 12},
                           {"claimed", 3},       {"dead_lettered", 1}, {"reconnects", 2}};
  nlohmann::json stream = {
      {"stream", "cam"},
      {"length", 150},
      {"dead_letters", 1},
      {"groups",
       {{{"group", "workers"}, {"consumers", 2}, {"pending", 4}, {"lag", 7}, {"oldest_pending_age_s", 1.5}},
        {{"group", "audit"},
         {"consumers", 0},
         {"pending", 0},
         {"lag", nullptr},
         {"oldest_pending_age_s", 0.0}}}}};
  MetricFamilies families;
  add_worker_metrics(families, worker, "cam");
  add_bus_stream_metrics(families, stream);
  auto text = families.text();
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(
      has("sightflow_worker_processed_total{stream=\"cam\",group=\"workers\",consumer=\"w\\\"1\"} 12"))
      << text;
  EXPECT_TRUE(
      has("sightflow_worker_skipped_old_total{stream=\"cam\",group=\"workers\",consumer=\"w\\\"1\"} 0"));
  EXPECT_TRUE(has("# TYPE sightflow_worker_claimed_total counter"));
  EXPECT_TRUE(has("sightflow_bus_stream_length{stream=\"cam\"} 150"));
  EXPECT_TRUE(has("sightflow_bus_group_pending{stream=\"cam\",group=\"workers\"} 4"));
  EXPECT_TRUE(has("sightflow_bus_group_lag{stream=\"cam\",group=\"workers\"} 7"));
  EXPECT_TRUE(has("sightflow_bus_group_oldest_pending_age_seconds{stream=\"cam\",group=\"workers\"} 1.5"));
  EXPECT_EQ(text.find("sightflow_bus_group_lag{stream=\"cam\",group=\"audit\"}"), std::string::npos)
      << "a lag Redis cannot tell is left out";
  EXPECT_EQ(test::promtool_problems(text), "");
}

TEST(BusMetrics, TheEndpointServesTheTextAndFailsAScrapeItCannotAnswer) {
  std::atomic<bool> fail{false};
  MetricsEndpoint endpoint("127.0.0.1", 0, [&]() -> std::string {
    if (fail) throw RedisUnavailable("redis://127.0.0.1:1/0: cannot connect");
    return "sightflow_up 1\n";
  });
  httplib::Client client("127.0.0.1", endpoint.port());
  auto ok = client.Get("/metrics");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "sightflow_up 1\n");
  fail = true;
  auto failed = client.Get("/metrics");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  EXPECT_NE(failed->body.find("cannot connect"), std::string::npos);
  EXPECT_THROW(parse_listen_address("9101", "--metrics"), std::invalid_argument);
  EXPECT_EQ(parse_listen_address("0.0.0.0:9101", "--metrics"),
            (std::pair<std::string, int>{"0.0.0.0", 9101}));
}

}  // namespace
}  // namespace sf
