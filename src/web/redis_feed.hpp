#pragma once
// The distributed view (`sightflow serve --redis URL`): follows every `sf:frames:NAME` and
// `sf:results:NAME` stream that capture processes and workers on other machines write, and feeds the live
// view with their newest frames and all their results, so one web server shows a whole cluster. Read-only:
// plain XREAD from the newest entry on (no consumer group, nothing acknowledged or trimmed).
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "bus/frame_message.hpp"
#include "bus/redis_url.hpp"
#include "pipeline/metric_families.hpp"
#include "web/live_view.hpp"

namespace sf {

class RedisFeed {
 public:
  // Starts following at once on its own thread (a server that is not there yet is waited for). Frames sent
  // by path are shown only from `decode.spill_dir` (none by default).
  RedisFeed(RedisEndpoint endpoint, LiveView& live, double discover_interval_s = 2.0,
            FrameDecodeOptions decode = {});
  ~RedisFeed();  // stops and joins
  RedisFeed(const RedisFeed&) = delete;
  RedisFeed& operator=(const RedisFeed&) = delete;

  // The followed streams' bus state (length, groups, lag, dead letters) as of the last discovery.
  void add_metrics(MetricFamilies& out) const;
  int64_t frames_read() const { return frames_; }
  int64_t results_read() const { return results_; }

 private:
  void loop();
  RedisEndpoint endpoint_;
  LiveView& live_;
  double discover_interval_s_;
  FrameDecodeOptions decode_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> frames_{0}, results_{0};
  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> stream_stats_;
  std::thread thread_;
};

}  // namespace sf
