#pragma once
// A client connection to 127.0.0.1:port that sends and reads raw bytes (a request a byte at a time, a
// chunked body that never ends), in the clear or through TLS (the server's certificate is not checked:
// these tests are about framing and limits, not trust).
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace sf::test {

class RawClient {
 public:
  explicit RawClient(int port, bool tls = false);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }  // and the TLS handshake done
  bool send(const std::string& bytes);
  // True when the server sent something (or closed) within `timeout_ms`.
  bool readable(int timeout_ms = 0);
  // What the server sent until it closed (or `timeout_ms` of silence).
  std::string read_all(int timeout_ms = 10000);
  // True once the server closed the connection (after whatever answer it sent).
  bool closed_by_server();

 private:
  long receive(char* buffer, size_t size);  // > 0 bytes, 0 closed, < 0 an error (or 10 s of nothing)
  short tls_wait(int result) const;

  int sock_;
  bool connected_ = false;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context_{nullptr, SSL_CTX_free};
  std::unique_ptr<SSL, decltype(&SSL_free)> tls_{nullptr, SSL_free};
};

}  // namespace sf::test
