#include "http/bounded_server.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace sf {

namespace {

using Clock = std::chrono::steady_clock;
using TlsSession = std::shared_ptr<SSL>;  // an https connection's session; null for plain HTTP

thread_local bool t_body_over_limit = false;

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Waits up to `timeout` for `events` on `sock`: true when they (or a hang-up or error, which the next
// read or write reports) came.
bool wait_for(int sock, short events, Clock::duration timeout) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  pollfd p{sock, events, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, int(std::clamp<long long>(ms, 0, 1 << 30)));
  } while (ready < 0 && errno == EINTR);
  return ready > 0;
}

std::string numeric_host(const sockaddr_storage& address, socklen_t length, int& port) {
  char host[NI_MAXHOST] = "", service[NI_MAXSERV] = "";
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof host, service,
                  sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "";
  port = std::atoi(service);
  return host;
}

// A TLS session that is still sound says close_notify before its socket closes (once, without waiting
// for the client's own); after a TLS error OpenSSL must not be asked to.
void say_close_notify(SSL* tls) {
  if (!tls || !SSL_is_init_finished(tls)) return;
  ERR_clear_error();
  SSL_shutdown(tls);
  ERR_clear_error();
}

void close_socket(int sock, SSL* tls = nullptr) {
  say_close_notify(tls);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

// The handshake of a new https connection, held to the request deadline like a request head (a client
// that connects and says nothing, or trickles its hello, is dropped). Null when it failed.
TlsSession accept_tls(SSL_CTX* context, int sock, const ConnectionLimits& limits) {
  // Non-blocking, so that a TLS record that arrives in pieces never blocks a read past its deadline.
  if (::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK) != 0) return nullptr;
  TlsSession tls(SSL_new(context), SSL_free);
  if (!tls || SSL_set_fd(tls.get(), sock) != 1) return nullptr;
  auto deadline = after(limits.request_timeout_s);
  for (;;) {
    ERR_clear_error();
    int done = SSL_accept(tls.get());
    if (done == 1) return tls;
    int error = SSL_get_error(tls.get(), done);
    short want = error == SSL_ERROR_WANT_READ ? POLLIN : error == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!want || !wait_for(sock, want, deadline - Clock::now())) {
      ERR_clear_error();
      return nullptr;
    }
  }
}

// Closes after an answer sent before the request was read whole (413, 401): the client is told we are done
// writing, and what it still sends is read and dropped for a moment, bounded, so that the close does not
// reset the connection before it has read the answer.
void close_after_answer(int sock, SSL* tls) {
  say_close_notify(tls);
  ::shutdown(sock, SHUT_WR);
  char discard[16384];
  size_t dropped = 0;
  auto until = after(1.0);
  while (dropped < (1u << 20) && Clock::now() < until && wait_for(sock, POLLIN, until - Clock::now())) {
    auto n = ::recv(sock, discard, sizeof discard, 0);
    if (n <= 0) break;
    dropped += size_t(n);
  }
  ::close(sock);
}

// One connection's bytes as cpp-httplib reads and writes them (through TLS for https), with the limits of
// one request at a time.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int sock, const ConnectionLimits& limits, SSL* tls)
      : sock_(sock), limits_(limits), tls_(tls) {}

  // A new request: its line and headers get `request_timeout_s` and `max_head_bytes`.
  void begin_request() {
    head_ = true;
    used_ = 0;
    allowed_ = limits_.max_head_bytes;
    deadline_ = after(limits_.request_timeout_s);
    t_body_over_limit = false;
  }

  // The headers are in: the body gets the body limit. A declared length over it gets nothing (cpp-httplib
  // would read and drop it all before answering 413).
  void head_received(const httplib::Request& req) {
    head_ = false;
    used_ = 0;
    allowed_ = limits_.max_body_bytes;
    chunked_ = req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
    declared_ = 0;
    if (req.has_header("Content-Length")) {
      auto declared = req.get_header_value("Content-Length");
      errno = 0;
      char* end = nullptr;
      auto length = std::strtoull(declared.c_str(), &end, 10);
      if (errno || end == declared.c_str() || length > limits_.max_body_bytes) allowed_ = 0;
      declared_ = length;
    }
  }

  // The request's body was left (partly) unread, e.g. by an answer given before reading it (401): what
  // follows on the connection is not a request.
  bool body_unread() const { return !head_ && (used_ < declared_ || (chunked_ && used_ == 0)); }

  bool broken() const { return broken_; }
  bool body_over_limit() const { return over_limit_; }
  bool has_buffered() const { return begin_ < end_ || (tls_ && SSL_has_pending(tls_)); }
  // The TLS session may still say close_notify (no TLS error happened).
  SSL* sound_tls() const { return tls_failed_ ? nullptr : tls_; }

  bool is_readable() const override { return has_buffered() || wait_for(sock_, POLLIN, read_wait()); }

  bool is_writable() const override {
    if (write_failed_ || !wait_for(sock_, POLLOUT, io_timeout())) return false;
    // A viewer that went away: its socket reads as closed.
    char byte;
    return !wait_for(sock_, POLLIN, {}) || ::recv(sock_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (used_ >= allowed_) {
      if (!head_) over_limit_ = t_body_over_limit = true;
      return fail();
    }
    short want = POLLIN;
    while (begin_ >= end_) {
      bool ready = (tls_ && SSL_has_pending(tls_)) || wait_for(sock_, want, read_wait());
      if (!ready) return fail();  // too slow: the deadline or no progress
      auto n = receive(want);
      if (n == kWait) continue;  // a TLS record not complete yet
      if (n <= 0) {
        broken_ = true;
        return n;  // 0: the client closed
      }
      begin_ = 0;
      end_ = size_t(n);
    }
    size_t n = std::min({size, end_ - begin_, allowed_ - used_});
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    used_ += n;
    return ssize_t(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    // After a failed read the answer (413, 400) is still written.
    if (write_failed_) return write_failed();
    short want = POLLOUT;
    for (;;) {
      if (!wait_for(sock_, want, io_timeout())) return write_failed();
      if (!tls_) {
        auto n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
        return n < 0 ? write_failed() : n;
      }
      ERR_clear_error();
      int n = SSL_write(tls_, ptr, int(std::min<size_t>(size, INT_MAX)));
      if (n > 0) return n;
      if (tls_result(n, want) != kWait) return write_failed();
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getpeername(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      ip = numeric_host(address, length, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      ip = numeric_host(address, length, port);
  }

  socket_t socket() const override { return sock_; }

 private:
  static constexpr ssize_t kWait = -2;

  // The client's next bytes into `buffer_`: their count, 0 when it closed, -1 on an error, or kWait when
  // a TLS record is not complete yet (`want` then says which way the socket must be ready).
  ssize_t receive(short& want) {
    if (!tls_) {
      auto n = ::recv(sock_, buffer_, sizeof buffer_, 0);
      return n < 0 && (errno == EAGAIN || errno == EINTR) ? kWait : n;
    }
    ERR_clear_error();
    int n = SSL_read(tls_, buffer_, int(sizeof buffer_));
    return n > 0 ? n : tls_result(n, want);
  }

  ssize_t tls_result(int n, short& want) {
    switch (SSL_get_error(tls_, n)) {
      case SSL_ERROR_WANT_READ:
        want = POLLIN;
        return kWait;
      case SSL_ERROR_WANT_WRITE:
        want = POLLOUT;
        return kWait;
      case SSL_ERROR_ZERO_RETURN:  // the client's close_notify
        return 0;
      default:
        tls_failed_ = true;
        ERR_clear_error();
        return -1;
    }
  }

  ssize_t fail() {
    broken_ = true;
    return -1;
  }
  ssize_t write_failed() {
    broken_ = write_failed_ = true;
    return -1;
  }
  Clock::duration io_timeout() const {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits_.io_timeout_s));
  }
  // The head has a deadline for all of it; a body read, only for progress.
  Clock::duration read_wait() const { return head_ ? deadline_ - Clock::now() : io_timeout(); }

  int sock_;
  const ConnectionLimits& limits_;
  SSL* tls_;
  bool tls_failed_ = false;
  char buffer_[16384];
  size_t begin_ = 0, end_ = 0;
  bool head_ = true, chunked_ = false;
  size_t used_ = 0, allowed_ = 0;
  unsigned long long declared_ = 0;  // Content-Length
  Clock::time_point deadline_;
  bool broken_ = false, write_failed_ = false, over_limit_ = false;
};

class ConnectionQueue;

class BoundedServer final : public httplib::Server {
 public:
  BoundedServer(const ConnectionLimits& limits, std::shared_ptr<SSL_CTX> tls_context);

  // Serves the requests of `sock` that are ready, then parks it until its next request, or closes it.
  // `tls`: the session of a parked https connection (a new one gets its handshake here).
  void serve(int sock, TlsSession tls);
  const ConnectionLimits& limits() const { return limits_; }

 private:
  // cpp-httplib calls this on a pool thread for each accepted connection.
  bool process_and_close_socket(socket_t sock) override {
    serve(sock, nullptr);
    return true;
  }

  friend class ConnectionQueue;
  ConnectionLimits limits_;
  std::shared_ptr<SSL_CTX> tls_context_;  // null: plain HTTP
  std::atomic<ConnectionQueue*> queue_{nullptr};
};

// The pool of the server's accept loop (cpp-httplib creates it when listening starts and shuts it down
// when listening ends), plus the parked connections: one epoll thread watches them and hands a connection
// back to the pool when its next request arrives, or closes it when it stayed idle too long.
class ConnectionQueue final : public httplib::TaskQueue {
 public:
  explicit ConnectionQueue(BoundedServer& server)
      : server_(server),
        pool_(server.limits().threads),
        epoll_(epoll_create1(EPOLL_CLOEXEC)),
        wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &event);
    poller_ = std::thread([this] { watch(); });
    server_.queue_ = this;
  }

  ~ConnectionQueue() override {
    ::close(epoll_);
    ::close(wake_);
  }

  void enqueue(std::function<void()> job) override { pool_.enqueue(std::move(job)); }

  void shutdown() override {
    server_.queue_ = nullptr;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    uint64_t one = 1;
    [[maybe_unused]] auto woken = ::write(wake_, &one, sizeof one);  // else it wakes within its tick
    poller_.join();
    for (const auto& [sock, parked] : parked_) close_socket(sock, parked.tls.get());
    parked_.clear();
    pool_.shutdown();
  }

  // False when the connection cannot be parked (stopping, or too many): the caller closes it.
  bool park(int sock, const TlsSession& tls) {
    std::lock_guard lock(mutex_);
    if (stopping_ || parked_.size() >= server_.limits().max_idle_connections) return false;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.fd = sock;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, sock, &event) != 0) return false;
    parked_[sock] = {after(server_.limits().idle_timeout_s), tls};
    return true;
  }

 private:
  void watch() {
    epoll_event events[64];
    for (;;) {
      int n = epoll_wait(epoll_, events, 64, 200);
      std::vector<std::pair<int, TlsSession>> ready, expired;
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        for (int i = 0; i < n; ++i) {
          int sock = events[i].data.fd;
          auto it = parked_.find(sock);
          if (sock == wake_ || it == parked_.end()) continue;
          epoll_ctl(epoll_, EPOLL_CTL_DEL, sock, nullptr);
          ready.emplace_back(sock, std::move(it->second.tls));
          parked_.erase(it);
        }
        auto now = Clock::now();
        for (auto it = parked_.begin(); it != parked_.end();) {
          if (it->second.until > now) {
            ++it;
            continue;
          }
          epoll_ctl(epoll_, EPOLL_CTL_DEL, it->first, nullptr);
          expired.emplace_back(it->first, std::move(it->second.tls));
          it = parked_.erase(it);
        }
      }
      for (auto& [sock, tls] : ready) pool_.enqueue([this, sock, tls] { server_.serve(sock, tls); });
      for (auto& [sock, tls] : expired) close_socket(sock, tls.get());
    }
  }

  BoundedServer& server_;
  httplib::ThreadPool pool_;
  int epoll_, wake_;
  std::mutex mutex_;
  bool stopping_ = false;
  struct Parked {
    Clock::time_point until;  // when it is closed if still idle
    TlsSession tls;
  };
  std::unordered_map<int, Parked> parked_;  // by socket
  std::thread poller_;
};

BoundedServer::BoundedServer(const ConnectionLimits& limits, std::shared_ptr<SSL_CTX> tls_context)
    : limits_(limits), tls_context_(std::move(tls_context)) {
  new_task_queue = [this] { return new ConnectionQueue(*this); };
  set_payload_max_length(limits_.max_body_bytes);
  // What the Keep-Alive header announces; the parking above enforces it.
  set_keep_alive_timeout(std::max<time_t>(1, time_t(limits_.idle_timeout_s)));
}

void BoundedServer::serve(int sock, TlsSession tls) {
  if (tls_context_ && !tls) {
    tls = accept_tls(tls_context_.get(), sock, limits_);
    if (!tls) return close_socket(sock);
  }
  ConnectionStream stream(sock, limits_, tls.get());
  for (;;) {
    if (svr_sock_ == INVALID_SOCKET) break;  // stopping
    if (!stream.has_buffered() && !wait_for(sock, POLLIN, {})) {
      // Nothing to serve now: wait for the next request without holding this thread.
      auto* queue = queue_.load();
      if (queue && queue->park(sock, tls)) return;
      break;
    }
    stream.begin_request();
    bool closed_by_client = false;
    bool answered = process_request(stream, false, closed_by_client,
                                    [&stream](httplib::Request& req) { stream.head_received(req); });
    if (!answered || closed_by_client || stream.broken() || stream.body_unread()) {
      // A request not read whole leaves the stream out of step: the connection ends with it.
      if (stream.body_over_limit() || stream.body_unread())
        return close_after_answer(sock, stream.sound_tls());
      break;
    }
  }
  close_socket(sock, stream.sound_tls());
}

}  // namespace

std::unique_ptr<httplib::Server> make_bounded_server(const ConnectionLimits& limits,
                                                     std::shared_ptr<ssl_ctx_st> tls) {
  return std::make_unique<BoundedServer>(limits, std::move(tls));
}

bool request_body_over_limit() { return t_body_over_limit; }

}  // namespace sf
