// The one URL parser (libcurl's, behind common/url) on tricky input, and the readers built on it: http(s)
// URLs for clients, Redis URLs, stream names from network sources.
#include "common/url.hpp"

#include <gtest/gtest.h>

#include "bus/redis_url.hpp"
#include "http/http_url.hpp"
#include "sightflow/source.hpp"

namespace sf {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_url(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Url, SplitsEveryPart) {
  auto u = parse_url("HTTPS://user:pa%40ss@Example.com:8443/a/b%20c?x=1&y=2#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.user, "user");
  EXPECT_EQ(u.password, "pa@ss") << "user info is percent-decoded";
  EXPECT_EQ(u.host, "Example.com");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.path, "/a/b%20c") << "the path stays as written, to be sent as it is";
  EXPECT_EQ(u.query, "x=1&y=2");

  auto bare = parse_url("redis://cache");
  EXPECT_EQ(bare.host, "cache");
  EXPECT_EQ(bare.port, 0) << "no port named";
  EXPECT_EQ(bare.path, "/");
  EXPECT_EQ(bare.user, "");
  EXPECT_EQ(bare.password, "");
}

TEST(Url, ReadsIpv6LiteralsWithoutBrackets) {
  auto u = parse_url("http://[::1]:8080/live");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(parse_url("http://[2001:db8::abcd]/").host, "2001:db8::abcd");
  EXPECT_EQ(parse_url("http://[fe80::1%25eth0]:80/").host, "fe80::1%eth0")
      << "a zone, as getaddrinfo takes it";
  EXPECT_NE(error_of("http://[::1/x"), "");
  EXPECT_NE(error_of("http://[::g]/"), "");
}

TEST(Url, RejectsPortsOutOfRangeOrNotNumbers) {
  EXPECT_EQ(parse_url("http://h:1/").port, 1);
  EXPECT_EQ(parse_url("http://h:65535/").port, 65535);
  for (const char* text : {"http://h:0/", "http://h:65536/", "http://h:99999999999/", "http://h:-1/",
                           "http://h:8a/", "http://h:+80/"}) {
    EXPECT_NE(error_of(text), "") << text;
  }
  EXPECT_NE(error_of("http://h:65536/").find("65535"), std::string::npos) << error_of("http://h:65536/");
}

TEST(Url, RejectsAMissingHostOrScheme) {
  for (const char* text :
       {"http://", "http:///path", "http://:80/x", "redis://", "redis://:pw@/0", "http://user@/x"}) {
    EXPECT_NE(error_of(text).find("host"), std::string::npos) << text << ": " << error_of(text);
  }
  for (const char* text : {"", "host:80", "127.0.0.1:8080/x", "://h", "/just/a/path"}) {
    EXPECT_NE(error_of(text), "") << text;
  }
  EXPECT_NE(error_of("http://ex ample/"), "") << "spaces are not part of a host";
}

TEST(Url, ErrorsDoNotRepeatThePassword) {
  auto error = error_of("redis://:hunter2@host:99999/0");
  EXPECT_NE(error, "");
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

TEST(HttpUrl, TakesHttpAndHttpsWithTheirDefaultPorts) {
  auto plain = parse_http_url("http://hooks.local/x?y=1", "URL");
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.port, 80);
  EXPECT_EQ(plain.path, "/x?y=1") << "the query goes with the path";
  auto tls = parse_http_url("https://[::1]/hook", "URL");
  EXPECT_TRUE(tls.tls);
  EXPECT_EQ(tls.host, "::1");
  EXPECT_EQ(tls.port, 443);
  EXPECT_EQ(tls.origin(), "https://[::1]:443");
  EXPECT_EQ(parse_http_url("https://h:8443", "URL").path, "/");

  for (const char* text : {"ftp://h/x", "h:80", "http://u:p@h/x", "http://:80/x", "http://h:0/x", ""}) {
    try {
      parse_http_url(text, "webhook URL");
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("webhook URL '" + std::string(text) + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(RedisUrl, DecodesPercentEncodedCredentialsAndReadsTheDatabase) {
  auto e = parse_redis_url("redis://app%3Aone:p%40ss%2Fword@[::1]:6380/3");
  EXPECT_EQ(e.user, "app:one");
  EXPECT_EQ(e.password, "p@ss/word");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.db, 3);
  EXPECT_EQ(e.describe(), "redis://[::1]:6380/3");
  EXPECT_THROW(parse_redis_url("redis://h/x"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://h/-1"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://:pw@/0"), std::invalid_argument);
}

TEST(StreamNames, NetworkSourcesAreNamedByTheirHost) {
  EXPECT_EQ(default_stream_name("rtsp://admin:p%40ss@cam2.local/h264"), "cam2.local");
  EXPECT_EQ(default_stream_name("rtsp://[fe80::2]:554/s"), "fe80::2");
  EXPECT_EQ(default_stream_name("udp://@:1234"), "udp") << "no host: the scheme";
}

}  // namespace
}  // namespace sf
