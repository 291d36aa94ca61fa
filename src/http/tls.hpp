#pragma once
// TLS for the HTTP servers and clients (cpp-httplib over OpenSSL, as Debian builds it): a server with a
// certificate and key, a client that verifies the server's certificate and name by default, and why a
// verification failed in words.
#include <memory>
#include <string>

#include "http/bounded_server.hpp"
#include "http/http_url.hpp"

namespace httplib {
class Server;
class ClientImpl;
enum class Error;
}  // namespace httplib

namespace sf {

struct TlsFiles {
  std::string cert;  // PEM certificate (chain) the server presents
  std::string key;   // PEM private key of that certificate
  bool enabled() const { return !cert.empty() || !key.empty(); }
};

// A server bounded by `limits` (bounded_server.hpp): plain HTTP, or HTTPS when `tls` names files. Throws
// std::invalid_argument naming a file that cannot be read, only one of the two, or OpenSSL's reason (not
// PEM, the key does not match).
std::unique_ptr<httplib::Server> make_http_server(const TlsFiles& tls, const ConnectionLimits& limits = {});

// A client for url's host and port: plain, or for https an httplib::SSLClient that verifies the server's
// certificate and host name against `ca_file` (PEM: a private CA, or a self-signed server's own
// certificate) when given, else against the system's CAs. Built directly rather than through
// httplib::Client("https://..."), whose URL pattern misses IPv6 literals with letters. Throws
// std::invalid_argument when ca_file cannot be read.
std::unique_ptr<httplib::ClientImpl> make_http_client(const HttpUrl& url, const std::string& ca_file = "");

// describe_http_error, and for a refused certificate OpenSSL's reason ("self-signed certificate", "does not
// name this host") with a hint to trust it through `ca_option` (the flag or option that sets the CA file).
std::string describe_request_error(const httplib::ClientImpl& client, httplib::Error error,
                                   const std::string& ca_option);

}  // namespace sf
