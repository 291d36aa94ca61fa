#pragma once
// Who may reach a listener without a token: the one rule for every HTTP server of a process (the web
// server of `run --serve` and `serve`, a worker's `--metrics`). The host is resolved as the listener
// will resolve it, so a name that merely starts like a loopback address ("127.evil") or an address that
// listens everywhere ("0.0.0.0") is not taken for loopback.
#include <string>

namespace sf {

// True when `host` resolves to at least one address and every one of them is a loopback address
// (127.0.0.0/8, ::1, or 127.x mapped into IPv6).
bool resolves_to_loopback_only(const std::string& host);

// Throws std::invalid_argument when `token` is empty and `host` is not loopback only; the message names
// the host and says how to give a token (`token_hint`, e.g. "--token (or $SIGHTFLOW_TOKEN)").
void check_listen_security(const std::string& host, const std::string& token,
                           const std::string& token_hint = "--token (or $SIGHTFLOW_TOKEN)");

}  // namespace sf
