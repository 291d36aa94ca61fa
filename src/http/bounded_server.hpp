#pragma once
// A cpp-httplib server whose connections cannot exhaust it. cpp-httplib 0.11 gives every connection a
// pool thread from accept to close, reads a request's line and headers with no size or time bound
// (a client sending one byte every few seconds is never dropped) and reads a chunked body whole,
// whatever the payload limit. Here the server's own connection loop serves each request through a
// stream that bounds it:
// - a connection waiting for its next request holds no thread: it is parked in one epoll thread and
//   closed after `idle_timeout_s`, so idle sockets cannot take the threads from real requests;
// - the request line and headers must arrive within `request_timeout_s` and `max_head_bytes`;
// - the body may not pass `max_body_bytes` as sent (chunk and multipart framing included) whatever its
//   framing: reading stops there, the answer is 413 and the connection is closed;
// - any read or write that makes no progress for `io_timeout_s` fails.
// With a TLS context the same loop serves https: the handshake is held to `request_timeout_s` like a
// request head, and a kept-alive TLS connection is parked with its session (tls.cpp makes the context).
#include <cstddef>
#include <memory>

namespace httplib {
class Server;
}
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace sf {

struct ConnectionLimits {
  size_t threads = 64;        // requests served at once (an MJPEG viewer holds one for as long as it watches)
  double idle_timeout_s = 5;  // a kept-alive connection with no new request is closed after this
  double request_timeout_s = 10;  // the request line and headers must arrive within this
  double io_timeout_s = 10;       // a body read or a response write that makes no progress for this fails
  size_t max_head_bytes = 64 << 10;
  size_t max_body_bytes = 16 << 20;
  size_t max_idle_connections = 1024;  // parked beyond this, a connection is closed at once
};

// Plain HTTP, or HTTPS when `tls` is given (a server context with its certificate and key loaded).
std::unique_ptr<httplib::Server> make_bounded_server(const ConnectionLimits& limits,
                                                     std::shared_ptr<ssl_ctx_st> tls = nullptr);

// True while the request being served on this thread had its body cut off at the limit: its error
// answer is then 413 whatever cpp-httplib's reader reported (it says 400 for a chunked body).
bool request_body_over_limit();

}  // namespace sf
