#pragma once
// The producer side of the bus (`sightflow capture`): frames into sf:frames:NAME with XADD MAXLEN ~ N.
//
// Offline (backpressure on): before the slowest consumer group's lag nears the cap, publishing waits, so
// MAXLEN only ever trims frames that were read. Real time (backpressure off): the source's pace wins and
// MAXLEN may trim frames no group has read; each of those is counted (trimmed_unread), never silent. The
// accounting relies on this publisher being the stream's only producer: after each XADD, XLEN says how
// many of its oldest entries are gone.
//
// After a reconnect it asks what the server kept: a Redis restarted without persistence comes back without
// the stream and its group (one with AOF every second may lose the newest entries). Entries it lost are
// counted as lost, not trimmed, and the group is created again at the new stream's start.
#include <atomic>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>

#include "bus/frame_message.hpp"
#include "bus/redis_connection.hpp"
#include "bus/stream_entry.hpp"

namespace sf {

struct PublisherOptions {
  std::string stream;
  int64_t maxlen = 10000;  // approximate cap of the frames stream (MAXLEN ~)
  std::string group =
      "workers";             // created at the stream's end if missing: workers started later get every frame
  bool backpressure = true;  // wait while a group's lag is above high_water * maxlen
  double high_water = 0.8;
  FrameMessageOptions message;
};

// Counters, readable from another thread (stats lines) while publishing goes on.
struct PublisherStats {
  std::atomic<int64_t> published{0};
  std::atomic<int64_t> bytes{0};           // JPEG bytes published (inline or spilled)
  std::atomic<int64_t> spilled{0};         // frames sent by path
  std::atomic<int64_t> trimmed{0};         // of the published frames, trimmed by MAXLEN so far
  std::atomic<int64_t> trimmed_unread{0};  // of those, trimmed before the slowest group read them
  std::atomic<int64_t> lost{0};            // published frames a restarted Redis came back without
  std::atomic<double> backpressure_wait_s{0};
  nlohmann::json to_json() const;
};

class FramePublisher {
 public:
  FramePublisher(RedisConnection& redis, PublisherOptions options);
  // Publishes one frame; returns its entry ID. May wait (backpressure).
  std::string publish(const Frame& frame) {
    return publish_message(encode_frame_message(frame, options_.message));
  }
  // Publishes a frame already encoded (encode_frame_message with this publisher's message options).
  std::string publish_message(const FrameMessage& message);
  const PublisherStats& stats() const { return stats_; }

 private:
  struct Published {
    StreamId id;
    std::string spilled_path;
  };
  void wait_for_consumers();
  void account_trimmed(int64_t length);
  void account_lost(const StreamId& newest);

  RedisConnection& redis_;
  PublisherOptions options_;
  std::string key_, maxlen_;
  std::deque<Published> live_;  // entries this publisher added that are still in the stream, oldest first
  int64_t lag_estimate_ = 0;    // the slowest group's lag at the last check plus frames published since
  int64_t reconnects_seen_ = 0;
  PublisherStats stats_;
};

}  // namespace sf
