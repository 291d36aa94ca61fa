#pragma once
// Which sources a stream started from the web API may open (docs/SECURITY.md, "Sources from the API").
// The command line's sources are the operator's own choice and never pass through here.
//
// Decided from the text alone, before anything is opened: the same answer whether a path exists or not,
// and no connection is made. Network URLs: the scheme must be allowed, and every address the host resolves
// to (the host as FFmpeg reads the URL) must be allowed: by default any address outside loopback,
// unspecified, link-local and multicast; with host patterns, only the hosts they name. Local paths: only
// inside allowed folders (lexically, then again after symbolic links are resolved), devices only where
// allowed. Thread-safe once built.
#include <array>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sf {

// The settings (flags `--allow-source-scheme`, `--allow-source-host`, `--allow-source-dir`,
// `--allow-source-device`). The defaults allow network cameras and nothing local.
struct SourceRules {
  std::vector<std::string> schemes = {"rtsp", "rtsps", "rtmp", "rtmps", "http", "https"};
  // Empty: any host whose addresses are all outside the special ranges. Else only hosts matching one of
  // these: a CIDR block ("10.1.0.0/16", "fd00::/8"), an address ("127.0.0.1"), or a host name pattern
  // ("cam1.lan", "*.cams.example.com"). Loopback and the other special ranges are reached only through an
  // address or block that names them.
  std::vector<std::string> hosts;
  std::vector<std::string> dirs;     // folders whose files and subfolders may be read
  std::vector<std::string> devices;  // device paths or patterns ("/dev/video*")
};

class SourceNotAllowed : public std::runtime_error {
 public:
  explicit SourceNotAllowed(const std::string& reason)
      : std::runtime_error("source not allowed: " + reason) {}
};

// A host's addresses as numeric strings ("127.0.0.1", "::1"); empty when it does not resolve.
using HostResolver = std::function<std::vector<std::string>(const std::string& host)>;
std::vector<std::string> resolve_host(const std::string& host);  // getaddrinfo

// Throws std::invalid_argument naming `pattern` when it is neither a CIDR block, an address nor a host
// name pattern (for the flag's check).
void check_host_pattern(const std::string& pattern);

class SourcePolicy {
 public:
  // Throws std::invalid_argument for a bad host pattern, an empty scheme or a relative folder/device.
  explicit SourcePolicy(const SourceRules& rules = {}, HostResolver resolver = resolve_host);

  // The URI to open for `source`: a network URL as given, a local path made absolute with its symbolic
  // links resolved. Throws SourceNotAllowed with the reason.
  std::string admit(const std::string& source) const;

 private:
  struct Block {
    std::array<unsigned char, 16> address{};  // IPv4 as ::ffff:a.b.c.d
    int prefix = 128;
  };
  std::string admit_url(const std::string& source, const std::string& scheme) const;
  std::string admit_path(const std::string& path) const;
  bool address_allowed(const std::array<unsigned char, 16>& address, bool name_matched) const;

  SourceRules rules_;
  HostResolver resolver_;
  std::vector<Block> blocks_;                  // the CIDR blocks and addresses of rules_.hosts
  std::vector<std::string> name_patterns_;     // the rest of rules_.hosts, lower case
  std::vector<std::string> dirs_, real_dirs_;  // lexically normal; with symbolic links resolved
};

}  // namespace sf
