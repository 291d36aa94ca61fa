#pragma once
// POSTs results as JSON to an HTTP endpoint without ever making the pipeline wait for it: write() only
// queues; a sender thread delivers in order, retrying with back-off; what cannot be delivered (queue
// overflow, a 4xx answer, retries exhausted, closing) goes to a dead-letter file, so nothing is lost
// silently. Thread-safety: write() and close() from one thread (the pipeline's sink thread); stats() from
// any thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/line_file.hpp"
#include "http/http_url.hpp"
#include "sightflow/bounded_queue.hpp"
#include "sightflow/metrics.hpp"
#include "sightflow/sink.hpp"

namespace httplib {
class ClientImpl;
}

namespace sf {

// The webhook sink's deliveries, counted by the sink itself.
struct WebhookStats {
  uint64_t delivered = 0;          // answered 2xx
  uint64_t retried = 0;            // failed tries followed by another (connection error, 5xx, 429)
  uint64_t dead_lettered = 0;      // written to the dead-letter file
  uint64_t skipped_unchanged = 0;  // not sent under only_changes
  uint64_t queued = 0;             // waiting or being delivered now
};
// Them as the `webhook` part: sightflow_webhook_{delivered,retried,dead_lettered,skipped}_total and
// sightflow_webhook_queued.
void report_webhook_stats(const WebhookStats& stats, CounterReport& out);

struct WebhookOptions {
  std::string url;               // http[s]://HOST[:PORT][/PATH]
  std::string ca_file;           // https: PEM certificates to trust ("": the system's CAs)
  bool only_changes = false;     // send a result only when its count differs from the previous one
                                 // of the same (stream, algo); the first one is always sent
  size_t queue_capacity = 1000;  // results waiting; when full the oldest goes to the dead-letter file
  std::string dead_letter_path = "sightflow-out/webhook-dead.jsonl";  // JSON Lines, appended
  double timeout_s = 5;            // connect, read and write timeout of one request
  double max_retry_seconds = 300;  // a result still undelivered this long after its first try is given up
  double drain_timeout_s = 10;     // close() keeps delivering this long, then dead-letters the rest
  double initial_backoff_s = 0.5;  // the wait after a failed try; doubles up to max_backoff_s
  double max_backoff_s = 10;
};

class WebhookSink : public Sink {
 public:
  // Throws std::invalid_argument naming the URL when it is not a usable http(s):// URL (or the CA file
  // cannot be read), and
  // std::runtime_error naming the dead-letter file when it cannot be opened.
  explicit WebhookSink(WebhookOptions options);
  ~WebhookSink() override;
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  void write(const Result& result) override;  // queues only; never waits for the network
  void close() override;  // delivers what is queued for up to drain_timeout_s, then dead-letters the rest
  WebhookStats stats() const;
  void report(CounterReport& out) const override { report_webhook_stats(stats(), out); }

 private:
  struct Pending {
    nlohmann::ordered_json body;
    int attempts = 0;
  };
  enum class Outcome { Delivered, Retry, Reject };

  void sender_loop();
  void deliver(Pending& item);
  Outcome post(const std::string& body, std::string& error);  // one try
  void dead_letter(Pending& item, const std::string& error);
  // Sleeps up to `seconds`, never past the drain deadline; close() wakes it to apply that deadline.
  void pause(double seconds);
  double drain_seconds_left() const;  // +infinity until close() is called

  WebhookOptions options_;
  HttpUrl url_;
  std::unique_ptr<httplib::ClientImpl> client_;  // sender thread only; keeps the connection alive
  BoundedQueue<Pending> queue_;
  std::map<std::pair<std::string, std::string>, size_t> last_count_;  // only_changes; sink thread only

  std::mutex dead_letter_mutex_;                // the sink thread (overflow) and the sender both write there
  std::unique_ptr<LineFile> dead_letter_file_;  // whole lines: a crash never leaves half an entry

  mutable std::mutex drain_mutex_;
  std::condition_variable drain_cv_;
  bool draining_ = false;
  double drain_deadline_ = 0;  // steady seconds

  // queued = accepted - delivered - dead_lettered: every accepted result ends in exactly one of the two.
  std::atomic<uint64_t> accepted_{0}, delivered_{0}, retried_{0}, dead_lettered_{0}, skipped_{0};
  bool closed_ = false;
  std::thread sender_;
};

std::shared_ptr<WebhookSink> make_webhook_sink(WebhookOptions options);

// The `webhook` sink's options: `URL` or {url, only_changes, queue, dead_letter, timeout,
// max_retry_seconds}; throws SinkOptionError naming the key.
WebhookOptions read_webhook_options(const nlohmann::json& options);

}  // namespace sf
