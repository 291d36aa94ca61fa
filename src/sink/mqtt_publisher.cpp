#include "sink/mqtt_publisher.hpp"

#include <mosquitto.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "sightflow/metrics.hpp"

namespace sf {
namespace {

// Messages handed to libmosquitto and not confirmed yet. Beyond it they wait here, where the queue is
// bounded; libmosquitto's own queue is not.
constexpr size_t kMaxInFlight = 100;
// The connection thread sleeps in mosquitto_loop()'s select() for at most this long, so a new message
// waits at most this long (the sink thread has no way to wake that select()).
constexpr int kLoopTimeoutMs = 50;

std::string describe_error(int rc) {
  return rc == MOSQ_ERR_ERRNO ? std::string(std::strerror(errno)) : std::string(mosquitto_strerror(rc));
}

std::string default_client_id() {
  static std::atomic<int> instances{0};
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  int n = ++instances;
  return "sightflow-" + std::string(host) + "-" + std::to_string(::getpid()) +
         (n > 1 ? "-" + std::to_string(n) : "");
}

mosquitto* new_client(const std::string& id, void* self) {
  static std::once_flag library;
  std::call_once(library, [] { mosquitto_lib_init(); });
  auto* m = mosquitto_new(id.c_str(), true, self);
  if (!m) throw std::runtime_error("MQTT: cannot create a client '" + id + "': " + std::strerror(errno));
  return m;
}

}  // namespace

MqttPublisher::MqttPublisher(MqttPublisherOptions options)
    : options_(std::move(options)), broker_(options_.broker.describe()), mosq_(nullptr, mosquitto_destroy) {
  if (options_.queue_capacity < 1) throw std::invalid_argument("MQTT queue must hold at least 1 message");
  if (options_.client_id.empty()) options_.client_id = default_client_id();
  mosq_.reset(new_client(options_.client_id, this));
  auto* m = mosq_.get();
  mosquitto_connect_callback_set(m, on_connect);
  mosquitto_disconnect_callback_set(m, on_disconnect);
  mosquitto_publish_callback_set(m, on_publish);
  mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);  // small messages, each wanted now

  const std::string offline = "offline";
  int rc = mosquitto_will_set(m, options_.availability_topic.c_str(), int(offline.size()), offline.data(),
                              options_.availability_qos, true);
  if (rc != MOSQ_ERR_SUCCESS)
    throw std::invalid_argument("MQTT availability topic '" + options_.availability_topic +
                                "': " + describe_error(rc));
  const auto& broker = options_.broker;
  if (!broker.username.empty()) {
    rc = mosquitto_username_pw_set(m, broker.username.c_str(),
                                   broker.password.empty() ? nullptr : broker.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) throw std::invalid_argument("MQTT user name: " + describe_error(rc));
  }
  if (broker.tls) {
    const auto& tls = options_.tls;
    if (tls.ca.empty()) mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
    auto file = [](const std::string& path) { return path.empty() ? nullptr : path.c_str(); };
    rc = mosquitto_tls_set(m, file(tls.ca), nullptr, file(tls.cert), file(tls.key), nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
      throw std::invalid_argument("MQTT TLS files (ca '" + tls.ca + "', cert '" + tls.cert + "', key '" +
                                  tls.key + "') cannot be used: " + describe_error(rc));
    if (tls.insecure) mosquitto_tls_insecure_set(m, true);
  }

  // Availability comes first in every (re)publication of the latest values.
  set(options_.availability_topic, "online", options_.availability_qos, true);
  backoff_s_ = options_.reconnect_min_s;
  thread_ = std::thread([this] { run(); });
}

MqttPublisher::~MqttPublisher() { close(); }

bool MqttPublisher::set(const std::string& topic, const std::string& payload, int qos, bool retain) {
  std::lock_guard lock(mutex_);
  auto [it, added] = latest_index_.try_emplace(topic, latest_.size());
  if (added) latest_.push_back({{topic, payload, qos, retain}, false});
  auto& entry = latest_[it->second];
  auto& message = entry.message;
  if (!added && message.payload == payload && message.qos == qos && message.retain == retain) return false;
  message.payload = payload;
  message.qos = qos;
  message.retain = retain;
  if (!entry.dirty) {
    entry.dirty = true;
    dirty_.push_back(it->second);
  }
  return true;
}

void MqttPublisher::send(std::string topic, std::string payload, int qos) {
  std::lock_guard lock(mutex_);
  if (one_off_.size() >= options_.queue_capacity) {
    one_off_.pop_front();
    ++dropped_;
    if (!overflow_warned_)
      spdlog::warn("mqtt {}: queue full ({} messages waiting); dropping the oldest (counted as dropped)",
                   broker_, options_.queue_capacity);
    overflow_warned_ = true;
  }
  one_off_.push_back({std::move(topic), std::move(payload), qos, false});
}

void MqttPublisher::close() {
  if (closed_) return;
  closed_ = true;
  set(options_.availability_topic, "offline", options_.availability_qos, true);
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    drain_deadline_ = steady_now() + options_.drain_timeout_s;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

MqttPublisherStats MqttPublisher::stats() const {
  MqttPublisherStats s;
  s.published = published_;
  s.dropped = dropped_;
  s.connections = connections_;
  s.connected = connected_;
  std::lock_guard lock(mutex_);
  s.queued = dirty_.size() + one_off_.size();
  return s;
}

// The connection thread: connect, publish what waits, let libmosquitto read and write, and after a
// failed or lost connection wait (doubling up to reconnect_max_s) and connect again. Unlike
// mosquitto_loop_forever(), it never gives up (a DNS or TLS failure is retried too) and close() cuts a
// wait short.
void MqttPublisher::run() {
  auto* m = mosq_.get();
  bool attempted = false;
  while (!done()) {
    if (mosquitto_socket(m) == -1) {
      if (attempted) {
        pause(backoff_s_);
        backoff_s_ = std::min(backoff_s_ * 2, options_.reconnect_max_s);
        if (done()) break;
      }
      attempted = true;
      attempt_reported_ = false;
      int rc = mosquitto_connect_async(m, options_.broker.host.c_str(), options_.broker.port,
                                       options_.keepalive_s);
      if (rc != MOSQ_ERR_SUCCESS) {
        note_failure(describe_error(rc));
        continue;
      }
    }
    mosquitto_loop(m, kLoopTimeoutMs, 1);  // a lost connection shows as a closed socket (on_disconnect)
    pump();
  }
  finish();
}

void MqttPublisher::pump() {
  while (connected_ && in_flight_.size() < kMaxInFlight) {
    Message message;
    bool one_off = false;
    {
      std::lock_guard lock(mutex_);
      if (!dirty_.empty()) {
        auto& entry = latest_[dirty_.front()];
        dirty_.pop_front();
        entry.dirty = false;
        message = entry.message;
      } else if (!one_off_.empty()) {
        message = std::move(one_off_.front());
        one_off_.pop_front();
        one_off = true;
      } else {
        return;
      }
    }
    int mid = 0;
    int rc = mosquitto_publish(mosq_.get(), &mid, message.topic.c_str(), int(message.payload.size()),
                               message.payload.data(), message.qos, message.retain);
    bool connection_trouble = rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO;
    if (mid == 0 || (rc != MOSQ_ERR_SUCCESS && !connection_trouble)) {
      // Refused for what it is (a topic that is not UTF-8, a payload too large): it never will be sent.
      if (one_off) ++dropped_;
      if (refused_topics_.insert(message.topic).second)
        spdlog::warn("mqtt {}: cannot publish to '{}': {}", broker_, message.topic, describe_error(rc));
      continue;
    }
    // With an id libmosquitto holds the message even when the write failed: QoS 1 and 2 are sent again
    // after a reconnect; QoS 0 is confirmed or, when the connection ends first, requeued here.
    if (confirmed_early_.erase(mid) == 0) in_flight_[mid] = {std::move(message), one_off, ++order_};
  }
}

bool MqttPublisher::done() {
  std::lock_guard lock(mutex_);
  if (!closing_) return false;
  bool delivered = dirty_.empty() && one_off_.empty() && in_flight_.empty();
  return (delivered && connected_) || steady_now() >= drain_deadline_;
}

void MqttPublisher::pause(double seconds) {
  std::unique_lock lock(mutex_);
  bool was_closing = closing_;
  if (closing_) seconds = std::min(seconds, drain_deadline_ - steady_now());
  wake_.wait_for(lock, std::chrono::duration<double>(std::max(seconds, 0.0)),
                 [&] { return closing_ != was_closing; });
}

void MqttPublisher::finish() {
  auto* m = mosq_.get();
  if (connected_) {
    // A clean goodbye: the broker discards the last will ("offline" was published just before).
    mosquitto_disconnect(m);
    for (int i = 0; i < 20 && mosquitto_socket(m) != -1; ++i) mosquitto_loop(m, kLoopTimeoutMs, 1);
  }
  connected_ = false;
  size_t left = 0;
  for (const auto& [mid, item] : in_flight_) left += item.one_off;
  {
    std::lock_guard lock(mutex_);
    left += one_off_.size();
    one_off_.clear();
  }
  dropped_ += left;
  if (left > 0)
    spdlog::warn("mqtt {}: {} messages not delivered within the drain timeout at close ({:g} s)", broker_,
                 left, options_.drain_timeout_s);
  spdlog::info("mqtt {}: {} messages published, {} dropped, {} connections", broker_, published_.load(),
               dropped_.load(), connections_.load());
}

void MqttPublisher::note_failure(const std::string& reason) {
  attempt_reported_ = true;
  if (failures_++ == 0)
    spdlog::warn("mqtt {}: cannot connect: {}; retrying with back-off up to {:g} s (messages wait meanwhile)",
                 broker_, reason, options_.reconnect_max_s);
  else
    spdlog::debug("mqtt {}: connection attempt {} failed: {}", broker_, failures_, reason);
}

void MqttPublisher::republish_all() {
  std::lock_guard lock(mutex_);
  dirty_.clear();
  for (size_t i = 0; i < latest_.size(); ++i) {
    latest_[i].dirty = true;
    dirty_.push_back(i);
  }
}

void MqttPublisher::requeue_unwritten() {
  std::vector<InFlight> unwritten;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second.message.qos == 0) {
      if (it->second.one_off) unwritten.push_back(std::move(it->second));
      it = in_flight_.erase(it);  // a latest value is published again on connect anyway
    } else {
      ++it;
    }
  }
  std::sort(unwritten.begin(), unwritten.end(),
            [](const auto& a, const auto& b) { return a.order > b.order; });
  std::lock_guard lock(mutex_);
  for (auto& item : unwritten) {
    if (one_off_.size() >= options_.queue_capacity) {
      ++dropped_;  // older than everything queued: the one to drop
      continue;
    }
    one_off_.push_front(std::move(item.message));
  }
}

void MqttPublisher::on_connect(mosquitto*, void* self, int rc) {
  auto* p = static_cast<MqttPublisher*>(self);
  if (rc != 0) {
    // The socket closes next (on_disconnect), which must not report this attempt again.
    p->note_failure(std::string("refused by the broker: ") + mosquitto_connack_string(rc));
    return;
  }
  if (p->failures_ != 0)
    spdlog::info("mqtt {}: connected after {} failed attempts", p->broker_, p->failures_);
  else if (p->connections_ == 0)
    spdlog::info("mqtt {}: connected as {}", p->broker_, p->options_.client_id);
  else
    spdlog::info("mqtt {}: reconnected", p->broker_);
  p->failures_ = 0;
  p->backoff_s_ = p->options_.reconnect_min_s;
  ++p->connections_;
  p->republish_all();
  p->connected_ = true;
}

void MqttPublisher::on_disconnect(mosquitto*, void* self, int rc) {
  auto* p = static_cast<MqttPublisher*>(self);
  bool was_connected = p->connected_.exchange(false);
  p->requeue_unwritten();
  if (was_connected) {
    if (rc != 0)
      spdlog::warn("mqtt {}: connection lost ({}); reconnecting with back-off (messages wait meanwhile)",
                   p->broker_, describe_error(rc));
  } else if (!p->attempt_reported_) {  // a refusal was reported by on_connect already
    p->note_failure(describe_error(rc));
  }
}

void MqttPublisher::on_publish(mosquitto*, void* self, int mid) {
  auto* p = static_cast<MqttPublisher*>(self);
  ++p->published_;
  if (p->in_flight_.erase(mid) == 0) p->confirmed_early_.insert(mid);
}

}  // namespace sf
