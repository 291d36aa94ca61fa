#include "raw_client.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace sf::test {

namespace {

constexpr int kTimeoutMs = 10000;  // a server that stops reading or answering fails a call, not the run

bool wait_for(int sock, short events, int timeout_ms) {
  pollfd p{sock, events, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

}  // namespace

RawClient::RawClient(int port, bool tls) : sock_(::socket(AF_INET, SOCK_STREAM, 0)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = ::connect(sock_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  timeval timeout{kTimeoutMs / 1000, 0};
  setsockopt(sock_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (!tls || !connected_) return;
  setsockopt(sock_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  context_.reset(SSL_CTX_new(TLS_client_method()));
  tls_.reset(SSL_new(context_.get()));
  connected_ = tls_ && SSL_set_fd(tls_.get(), sock_) == 1 && SSL_connect(tls_.get()) == 1;
  // From here reads do not block: a TLS 1.3 server sends session tickets after the handshake, which make
  // the socket readable without any answer to read.
  ::fcntl(sock_, F_SETFL, ::fcntl(sock_, F_GETFL) | O_NONBLOCK);
}

RawClient::~RawClient() {
  tls_.reset();
  ::close(sock_);
}

// The way a TLS call that could not finish must wait, or 0 when it failed.
short RawClient::tls_wait(int result) const {
  switch (SSL_get_error(tls_.get(), result)) {
    case SSL_ERROR_WANT_READ:
      return POLLIN;
    case SSL_ERROR_WANT_WRITE:
      return POLLOUT;
    default:
      return 0;
  }
}

bool RawClient::send(const std::string& bytes) {
  if (!tls_) return ::send(sock_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
  size_t sent = 0;
  while (sent < bytes.size()) {
    int n = SSL_write(tls_.get(), bytes.data() + sent, int(bytes.size() - sent));
    if (n > 0) {
      sent += size_t(n);
      continue;
    }
    short want = tls_wait(n);
    if (!want || !wait_for(sock_, want, kTimeoutMs)) return false;
  }
  return true;
}

bool RawClient::readable(int timeout_ms) {
  if (!tls_) return wait_for(sock_, POLLIN, timeout_ms);
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    char byte;
    int n = SSL_peek(tls_.get(), &byte, 1);
    if (n > 0 || tls_wait(n) != POLLIN) return true;  // data, or closed (the next read says which)
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() < 0 || !wait_for(sock_, POLLIN, int(left.count()))) return false;
  }
}

long RawClient::receive(char* buffer, size_t size) {
  if (!tls_) return ::recv(sock_, buffer, size, 0);
  for (;;) {
    int n = SSL_read(tls_.get(), buffer, int(size));
    if (n > 0) return n;
    if (SSL_get_error(tls_.get(), n) == SSL_ERROR_ZERO_RETURN) return 0;
    short want = tls_wait(n);
    if (!want || !wait_for(sock_, want, kTimeoutMs)) return -1;
  }
}

std::string RawClient::read_all(int timeout_ms) {
  std::string text;
  char buffer[4096];
  while (readable(timeout_ms)) {
    auto n = receive(buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, size_t(n));
  }
  return text;
}

bool RawClient::closed_by_server() {
  char buffer[4096];
  while (readable()) {
    if (receive(buffer, sizeof buffer) <= 0) return true;
  }
  return false;
}

}  // namespace sf::test
