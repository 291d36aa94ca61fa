#include "http/tls.hpp"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <fstream>
#include <stdexcept>

namespace sf {

namespace {

void check_readable(const std::string& path, const std::string& what) {
  if (!std::ifstream(path)) throw std::invalid_argument(what + " " + path + ": cannot be read");
}

// The newest reason on this thread's OpenSSL error queue ("key values mismatch"), or "".
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  return reason ? reason : "";
}

}  // namespace

std::unique_ptr<httplib::Server> make_http_server(const TlsFiles& tls, const ConnectionLimits& limits) {
  if (!tls.enabled()) return make_bounded_server(limits);
  if (tls.cert.empty() || tls.key.empty())
    throw std::invalid_argument("TLS needs both a certificate and its key (--tls-cert and --tls-key)");
  check_readable(tls.cert, "TLS certificate");
  check_readable(tls.key, "TLS key");
  // The server context as cpp-httplib's SSLServer makes it (TLS 1.2 or newer, no compression), served by
  // the bounded connection loop so that https has the same limits as http.
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  bool loaded = context && SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION) == 1 &&
                SSL_CTX_use_certificate_chain_file(context.get(), tls.cert.c_str()) == 1 &&
                SSL_CTX_use_PrivateKey_file(context.get(), tls.key.c_str(), SSL_FILETYPE_PEM) == 1 &&
                SSL_CTX_check_private_key(context.get()) == 1;
  if (!loaded) {
    auto reason = openssl_reason();
    ERR_clear_error();
    throw std::invalid_argument("cannot serve TLS with certificate " + tls.cert + " and key " + tls.key +
                                ": " + (reason.empty() ? "not PEM, or the key does not match" : reason));
  }
  SSL_CTX_set_options(context.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  // A write may go out in parts (the connection loop waits for the socket between them).
  SSL_CTX_set_mode(context.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return make_bounded_server(limits, std::move(context));
}

std::unique_ptr<httplib::ClientImpl> make_http_client(const HttpUrl& url, const std::string& ca_file) {
  if (!url.tls) return std::make_unique<httplib::ClientImpl>(url.host, url.port);
  auto client = std::make_unique<httplib::SSLClient>(url.host, url.port);
  if (!ca_file.empty()) {
    check_readable(ca_file, "CA file");
    client->set_ca_cert_path(ca_file);
  }
  client->enable_server_certificate_verification(true);  // httplib's default, said where it matters
  return client;
}

std::string describe_request_error(const httplib::ClientImpl& client, httplib::Error error,
                                   const std::string& ca_option) {
  auto text = describe_http_error(error);
  const auto* tls = dynamic_cast<const httplib::SSLClient*>(&client);
  if (error != httplib::Error::SSLServerVerification || !tls) return text;
  long result = tls->get_openssl_verify_result();
  // Verified but refused: the chain was fine, the name was not (httplib checks it after OpenSSL).
  if (result == X509_V_OK) return text + ": it does not name this host (subjectAltName)";
  text += ": " + std::string(X509_verify_cert_error_string(result));
  if (result == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || result == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
      result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
      result == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
    text += " (to trust it, give its CA or the certificate itself with " + ca_option + ")";
  return text;
}

}  // namespace sf
