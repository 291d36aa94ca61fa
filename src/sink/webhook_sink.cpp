#include "sink/webhook_sink.hpp"

#include <httplib.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "http/tls.hpp"
#include "sightflow/metrics.hpp"
#include "sightflow/sink_options.hpp"

namespace sf {
namespace {

// Seconds as httplib's (sec, usec) pair.
std::pair<time_t, time_t> split_seconds(double seconds) {
  auto whole = std::floor(seconds);
  return {time_t(whole), time_t((seconds - whole) * 1e6)};
}

std::string snippet(const std::string& text, size_t limit = 200) {
  return text.size() <= limit ? text : text.substr(0, limit) + "...";
}

}  // namespace

WebhookSink::WebhookSink(WebhookOptions options)
    : options_(std::move(options)),
      url_(parse_http_url(options_.url, "webhook URL")),
      queue_(options_.queue_capacity > 0
                 ? options_.queue_capacity
                 : throw std::invalid_argument("webhook queue must hold at least 1 result"),
             OverflowPolicy::DropOldest) {
  // Opened now, so that a dead-letter path that cannot be written fails before the run starts.
  auto parent = std::filesystem::path(options_.dead_letter_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  dead_letter_file_ = std::make_unique<LineFile>(options_.dead_letter_path, LineFile::Mode::Append,
                                                 "webhook dead-letter file");
  client_ = make_http_client(url_, options_.ca_file);
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);  // else Nagle and the receiver's delayed ACK hold each POST ~40 ms
  auto [sec, usec] = split_seconds(options_.timeout_s);
  client_->set_connection_timeout(sec, usec);
  client_->set_read_timeout(sec, usec);
  client_->set_write_timeout(sec, usec);
  sender_ = std::thread([this] { sender_loop(); });
}

WebhookSink::~WebhookSink() { close(); }

void WebhookSink::write(const Result& result) {
  if (options_.only_changes) {
    auto key = std::make_pair(result.stream, result.algo);
    auto count = result.detections.size();
    auto previous = last_count_.find(key);
    bool unchanged = previous != last_count_.end() && previous->second == count;
    last_count_[key] = count;
    if (unchanged) {
      ++skipped_;
      return;
    }
  }
  ++accepted_;
  Pending item{to_json(result)};
  std::optional<Pending> evicted;
  if (!queue_.push(std::move(item), &evicted)) {
    // Only after close(): the pipeline writes nothing then, but a result must never vanish.
    Pending late{to_json(result)};
    dead_letter(late, "written after the sink was closed");
    return;
  }
  if (evicted)
    dead_letter(*evicted, "queue full (" + std::to_string(queue_.capacity()) +
                              " results waiting): the receiver is too slow or down");
}

void WebhookSink::close() {
  if (closed_) return;
  closed_ = true;
  if (auto waiting = stats().queued; waiting > 0)
    spdlog::info("webhook {}: delivering {} queued results before closing (up to {:g} s)", options_.url,
                 waiting, options_.drain_timeout_s);
  {
    std::lock_guard lock(drain_mutex_);
    draining_ = true;
    drain_deadline_ = steady_now() + options_.drain_timeout_s;
  }
  drain_cv_.notify_all();
  queue_.close();
  if (sender_.joinable()) sender_.join();
  auto s = stats();
  spdlog::info("webhook {}: {} results delivered, {} retries, {} dead-lettered{}", options_.url, s.delivered,
               s.retried, s.dead_lettered,
               s.dead_lettered ? " (see " + options_.dead_letter_path + ")" : std::string());
}

WebhookStats WebhookSink::stats() const {
  WebhookStats s;
  // Read the outcomes before the arrivals: accepted only grows, so queued never goes below zero.
  s.delivered = delivered_;
  s.dead_lettered = dead_lettered_;
  s.retried = retried_;
  s.skipped_unchanged = skipped_;
  s.queued = accepted_ - s.delivered - s.dead_lettered;
  return s;
}

void WebhookSink::sender_loop() {
  while (true) {
    auto item = queue_.pop_for(std::chrono::milliseconds(500));
    if (!item) {
      if (queue_.closed() && queue_.size() == 0) break;
      continue;
    }
    deliver(*item);
  }
}

// One result, retried in place: later results wait behind it, so the receiver sees them in order.
void WebhookSink::deliver(Pending& item) {
  const std::string body = item.body.dump();
  const double first_try = steady_now();
  double backoff = options_.initial_backoff_s;
  std::string error;
  while (true) {
    if (drain_seconds_left() <= 0) {
      auto why =
          fmt::format("not delivered within the drain timeout at close ({:g} s)", options_.drain_timeout_s);
      dead_letter(item, item.attempts ? why + "; last error: " + error : why);
      return;
    }
    ++item.attempts;
    auto outcome = post(body, error);
    if (outcome == Outcome::Delivered) {
      if (item.attempts > 1) spdlog::info("webhook {}: delivering again", options_.url);
      ++delivered_;
      return;
    }
    if (outcome == Outcome::Reject) {
      dead_letter(item, error);
      return;
    }
    double waited = steady_now() - first_try;
    if (waited >= options_.max_retry_seconds) {
      dead_letter(item, fmt::format("gave up after {:.1f} s of retries; last error: {}", waited, error));
      return;
    }
    if (item.attempts == 1)
      spdlog::warn("webhook {}: {}; retrying with back-off (results queue meanwhile)", options_.url, error);
    ++retried_;
    pause(std::min(backoff, options_.max_retry_seconds - waited));
    backoff = std::min(backoff * 2, options_.max_backoff_s);
  }
}

WebhookSink::Outcome WebhookSink::post(const std::string& body, std::string& error) {
  auto res = client_->Post(url_.path, body, "application/json");
  if (!res) {
    error = "cannot reach " + options_.url + ": " +
            describe_request_error(*client_, res.error(), "the webhook's ca_file or --webhook-ca-file");
    return Outcome::Retry;
  }
  int status = res->status;
  if (status >= 200 && status < 300) return Outcome::Delivered;
  error = "HTTP " + std::to_string(status) + " from " + options_.url;
  if (!res->body.empty()) error += ": " + snippet(res->body);
  // Overload and server trouble may pass; any other answer (4xx, redirects) would be the same next time.
  bool transient = status >= 500 || status == 429 || status == 408;
  return transient ? Outcome::Retry : Outcome::Reject;
}

void WebhookSink::dead_letter(Pending& item, const std::string& error) {
  auto entry = item.body;
  entry["error"] = error;
  entry["attempts"] = item.attempts;
  std::string line = entry.dump() + "\n";
  bool first;
  {
    std::lock_guard lock(dead_letter_mutex_);
    first = dead_lettered_ == 0;
    ++dead_lettered_;
    try {
      dead_letter_file_->write(line);
    } catch (const std::runtime_error& e) {
      // The log is the last place left for it: losing it silently is what the file is there to prevent.
      spdlog::error("webhook: {}; lost result: {}", e.what(), line);
    }
  }
  if (first)
    spdlog::warn("webhook {}: result not delivered ({}); written to {}", options_.url, error,
                 options_.dead_letter_path);
}

void WebhookSink::pause(double seconds) {
  std::unique_lock lock(drain_mutex_);
  bool was_draining = draining_;
  if (draining_) seconds = std::min(seconds, drain_deadline_ - steady_now());
  drain_cv_.wait_for(lock, std::chrono::duration<double>(std::max(seconds, 0.0)),
                     [&] { return draining_ != was_draining; });
}

double WebhookSink::drain_seconds_left() const {
  std::lock_guard lock(drain_mutex_);
  return draining_ ? drain_deadline_ - steady_now() : std::numeric_limits<double>::infinity();
}

std::shared_ptr<WebhookSink> make_webhook_sink(WebhookOptions options) {
  return std::make_shared<WebhookSink>(std::move(options));
}

void report_webhook_stats(const WebhookStats& w, CounterReport& out) {
  out.counter({"webhook", "delivered", "sightflow_webhook_delivered_total",
               "Results the webhook receiver accepted (2xx)."},
              double(w.delivered));
  out.counter({"webhook", "retried", "sightflow_webhook_retried_total",
               "Webhook tries that failed and were tried again."},
              double(w.retried));
  out.counter({"webhook", "dead_lettered", "sightflow_webhook_dead_lettered_total",
               "Results written to the webhook's dead-letter file."},
              double(w.dead_lettered));
  out.counter({"webhook", "skipped", "sightflow_webhook_skipped_total",
               "Results not sent because their count did not change."},
              double(w.skipped_unchanged));
  out.gauge({"webhook", "queued", "sightflow_webhook_queued", "Results waiting for the webhook receiver."},
            double(w.queued));
  out.summary(fmt::format("webhook: {} results delivered, {} retries, {} dead-lettered, {} skipped",
                          w.delivered, w.retried, w.dead_lettered, w.skipped_unchanged));
}

WebhookOptions read_webhook_options(const nlohmann::json& options) {
  SinkOptionReader r(options, "url");
  r.only_keys({"url", "only_changes", "queue", "dead_letter", "timeout", "max_retry_seconds", "ca_file"});
  WebhookOptions w;
  w.url = r.required_text("url", "http[s]://HOST[:PORT][/PATH]");
  try {
    parse_http_url(w.url, "URL");
  } catch (const std::invalid_argument& e) {
    r.fail("url", e.what());
  }
  w.only_changes = r.boolean("only_changes", w.only_changes);
  auto queue = r.integer("queue", int64_t(w.queue_capacity));
  // Each waiting result holds its JSON body: a million is already about a gigabyte.
  if (queue < 1 || queue > 1000000) r.fail("queue", "must be in [1, 1000000], got " + std::to_string(queue));
  w.queue_capacity = size_t(queue);
  if (r.has("dead_letter")) w.dead_letter_path = r.required_text("dead_letter", "a file");
  if (r.has("ca_file")) w.ca_file = r.required_text("ca_file", "a PEM file of certificates to trust");
  w.timeout_s = r.number("timeout", w.timeout_s);
  if (w.timeout_s <= 0 || w.timeout_s > 3600) r.fail("timeout", "must be in (0, 3600] seconds");
  w.max_retry_seconds = r.number("max_retry_seconds", w.max_retry_seconds);
  if (w.max_retry_seconds < 0 || w.max_retry_seconds > 604800)
    r.fail("max_retry_seconds", "must be in [0, 604800] seconds (a week)");
  return w;
}

}  // namespace sf
