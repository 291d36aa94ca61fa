#include "source/source_policy.hpp"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <optional>

#include "common/url.hpp"
#include "source/source_util.hpp"

extern "C" {
#include <libavformat/avformat.h>
}

namespace sf {
namespace fs = std::filesystem;

namespace {

using Address = std::array<unsigned char, 16>;

using source_detail::lower;
using source_detail::scheme_of;

// A numeric address as 16 bytes, IPv4 mapped into IPv6 (::ffff:a.b.c.d) so that one table covers both;
// a zone ("fe80::1%eth0") is ignored.
std::optional<Address> parse_address(std::string text) {
  if (auto zone = text.find('%'); zone != std::string::npos) text.resize(zone);
  Address a{};
  if (inet_pton(AF_INET6, text.c_str(), a.data()) == 1) return a;
  unsigned char v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) != 1) return std::nullopt;
  a.fill(0);
  a[10] = a[11] = 0xff;
  std::memcpy(a.data() + 12, v4, 4);
  return a;
}

bool in_block(const Address& a, const Address& base, int prefix) {
  for (int bit = 0; bit < prefix; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((a[bit / 8] & mask) != (base[bit / 8] & mask)) return false;
  }
  return true;
}

bool is_ipv4(const std::string& text) {
  unsigned char v4[4];
  return inet_pton(AF_INET, text.c_str(), v4) == 1;
}

// "a.b.c.d/n" or "x::y/n" -> (base, prefix in the 128-bit space); nullopt when it is no block.
std::optional<std::pair<Address, int>> parse_block(const std::string& text) {
  const auto slash = text.find('/');
  const std::string base_text = text.substr(0, slash);
  auto base = parse_address(base_text);
  if (!base || base_text.find('%') != std::string::npos) return std::nullopt;
  const bool v4 = is_ipv4(base_text);
  int prefix = v4 ? 32 : 128;
  if (slash != std::string::npos) {
    const std::string bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit))
      return std::nullopt;
    prefix = std::stoi(bits);
    if (prefix > (v4 ? 32 : 128)) return std::nullopt;
  }
  return std::make_pair(*base, v4 ? prefix + 96 : prefix);
}

bool is_name_pattern(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '*' || c == '?';
  });
}

// The ranges a stream never reaches unless a host pattern names them: this machine, "any", link-local
// (cloud metadata services live at 169.254.169.254), multicast and reserved.
struct SpecialRange {
  const char* block;
  const char* what;
};
constexpr SpecialRange kSpecialRanges[] = {
    {"127.0.0.0/8", "loopback"},  {"::1/128", "loopback"},          {"0.0.0.0/8", "unspecified"},
    {"::/128", "unspecified"},    {"169.254.0.0/16", "link-local"}, {"fe80::/10", "link-local"},
    {"224.0.0.0/4", "multicast"}, {"ff00::/8", "multicast"},        {"240.0.0.0/4", "reserved"}};

const char* special_range(const Address& a) {
  for (const auto& range : kSpecialRanges) {
    auto block = parse_block(range.block);
    if (in_block(a, block->first, block->second)) return range.what;
  }
  return nullptr;
}

// Whether `path` is `dir` or below it, component by component (both absolute and lexically normal).
bool inside(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (const auto& part : dir) {
    if (part.empty()) continue;  // the trailing "" of "/a/b/"
    if (p == path.end() || *p != part) return false;
    ++p;
  }
  return true;
}

bool inside_any(const fs::path& path, const std::vector<std::string>& dirs) {
  return std::any_of(dirs.begin(), dirs.end(), [&](const std::string& d) { return inside(path, d); });
}

fs::path absolute_normal(const std::string& path) {
  fs::path p(path);
  if (p.is_relative()) p = fs::current_path() / p;
  return p.lexically_normal();
}

}  // namespace

std::vector<std::string> resolve_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::vector<std::string> out;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0) return out;
  for (auto* ai = list; ai; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr =
        ai->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
        inet_ntop(ai->ai_family, addr, text, sizeof text) &&
        std::find(out.begin(), out.end(), text) == out.end())
      out.push_back(text);
  }
  freeaddrinfo(list);
  return out;
}

void check_host_pattern(const std::string& pattern) {
  if (pattern.find('/') != std::string::npos || parse_address(pattern)) {
    if (!parse_block(pattern))
      throw std::invalid_argument("host pattern '" + pattern + "' is not a valid address or CIDR block");
    return;
  }
  if (!is_name_pattern(pattern))
    throw std::invalid_argument("host pattern '" + pattern +
                                "' is neither a CIDR block, an address nor a host name pattern");
}

SourcePolicy::SourcePolicy(const SourceRules& rules, HostResolver resolver)
    : rules_(rules), resolver_(std::move(resolver)) {
  for (auto& scheme : rules_.schemes) {
    scheme = lower(scheme);
    if (scheme.empty() || scheme == "file")
      throw std::invalid_argument("allowed schemes: '" + scheme + "' is no network scheme (use folders)");
  }
  for (const auto& pattern : rules_.hosts) {
    check_host_pattern(pattern);
    if (auto block = parse_block(pattern))
      blocks_.push_back({block->first, block->second});
    else
      name_patterns_.push_back(lower(pattern));
  }
  for (const auto& dir : rules_.dirs) {
    if (dir.empty()) throw std::invalid_argument("an allowed source folder is empty");
    dirs_.push_back(absolute_normal(dir).string());
    std::error_code ec;
    auto real = fs::weakly_canonical(dirs_.back(), ec);
    real_dirs_.push_back(ec ? dirs_.back() : real.string());
  }
  for (const auto& device : rules_.devices)
    if (device.rfind("/dev/", 0) != 0)
      throw std::invalid_argument("allowed device '" + device + "' is not a path under /dev/");
}

std::string SourcePolicy::admit(const std::string& source) const {
  // A NUL would end the path FFmpeg sees early; no source needs control characters.
  if (std::any_of(source.begin(), source.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    throw SourceNotAllowed("it holds control characters");
  const std::string scheme = scheme_of(source);
  if (scheme.empty()) return admit_path(source);
  if (scheme == "file") {
    const std::string path = source.substr(std::string("file://").size());
    if (path.empty() || path[0] != '/') throw SourceNotAllowed("a file:// URL must name an absolute path");
    return admit_path(path);
  }
  return admit_url(source, scheme);
}

std::string SourcePolicy::admit_url(const std::string& source, const std::string& scheme) const {
  if (std::find(rules_.schemes.begin(), rules_.schemes.end(), scheme) == rules_.schemes.end()) {
    std::string allowed;
    for (const auto& s : rules_.schemes) allowed += (allowed.empty() ? "" : ", ") + s;
    throw SourceNotAllowed("scheme '" + scheme +
                           "' is not allowed (allowed: " + (allowed.empty() ? "none" : allowed) + ")");
  }
  // The host FFmpeg will connect to, read by FFmpeg's own splitter; libcurl's reading must agree, so that a
  // URL two parsers read differently cannot pass as one host and reach another.
  char proto[32], auth[1024], host[1024], path[8];
  int port = -1;
  av_url_split(proto, sizeof proto, auth, sizeof auth, host, sizeof host, &port, path, sizeof path,
               source.c_str());
  const std::string ffmpeg_host = lower(host);
  std::string curl_host;
  try {
    curl_host = lower(parse_url(source).host);
  } catch (const std::invalid_argument& e) {
    throw SourceNotAllowed(std::string("not a URL this server reads (") + e.what() + ")");
  }
  if (ffmpeg_host.empty()) throw SourceNotAllowed("the URL names no host");
  if (ffmpeg_host != curl_host) throw SourceNotAllowed("the URL's host is ambiguous");

  const bool literal = parse_address(ffmpeg_host).has_value();
  const bool name_matched =
      !literal && std::any_of(name_patterns_.begin(), name_patterns_.end(), [&](const std::string& p) {
        return fnmatch(p.c_str(), ffmpeg_host.c_str(), FNM_CASEFOLD) == 0;
      });
  if (!rules_.hosts.empty() && !name_matched && blocks_.empty())
    throw SourceNotAllowed("host '" + ffmpeg_host + "' is not among the allowed hosts");
  const auto addresses = resolver_(ffmpeg_host);
  if (addresses.empty()) throw SourceNotAllowed("host '" + ffmpeg_host + "' does not resolve");
  for (const auto& text : addresses) {
    auto address = parse_address(text);
    if (!address) throw SourceNotAllowed("host '" + ffmpeg_host + "' resolves to no usable address");
    if (address_allowed(*address, name_matched)) continue;
    const char* range = special_range(*address);
    std::string why = range ? std::string(", a ") + range + " address" : ", outside the allowed hosts";
    throw SourceNotAllowed("host '" + ffmpeg_host + "'" + (literal ? " is " + text : " resolves to " + text) +
                           why);
  }
  return source;
}

bool SourcePolicy::address_allowed(const Address& address, bool name_matched) const {
  for (const auto& block : blocks_)
    if (in_block(address, block.address, block.prefix)) return true;
  if (special_range(address)) return false;
  return rules_.hosts.empty() || name_matched;
}

std::string SourcePolicy::admit_path(const std::string& given) const {
  // Decided on the text first: nothing on disk is looked at before the path is inside an allowed folder,
  // so the answer is the same whether it exists or not.
  const fs::path path = absolute_normal(given);
  if (inside(path, "/dev")) {
    if (rules_.devices.empty())
      throw SourceNotAllowed("devices are not allowed (the server allows none with --allow-source-device)");
    for (const auto& pattern : rules_.devices)
      if (fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0) return path.string();
    throw SourceNotAllowed("the device is not among the allowed devices");
  }
  if (rules_.dirs.empty())
    throw SourceNotAllowed(
        "local files are not allowed (the server allows no folder with --allow-source-dir)");
  if (!inside_any(path, dirs_) && !inside_any(path, real_dirs_))
    throw SourceNotAllowed("the path is outside the allowed folders");
  // Inside: symbolic links must not lead out, and only files and folders are read (a FIFO or device
  // would block or never end).
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(path, ec);
  if (ec || !inside_any(real, real_dirs_))
    throw SourceNotAllowed("the path leads outside the allowed folders");
  const auto status = fs::status(real, ec);
  if (!ec && fs::exists(status) && !fs::is_regular_file(status) && !fs::is_directory(status))
    throw SourceNotAllowed("the path is neither a regular file nor a folder");
  std::string out = real.string();
  if (given.back() == '/' && (out.empty() || out.back() != '/')) out += '/';  // an image folder, as given
  return out;
}

}  // namespace sf
