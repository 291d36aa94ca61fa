// The allow-list for sources named by web API requests: decided from the text (and the host's resolved
// addresses) before anything is opened, with the same answer whether a path exists or not.
#include "source/source_policy.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "test_support.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

// A resolver that knows a few names and counts its calls (no DNS in tests).
struct FakeDns {
  std::map<std::string, std::vector<std::string>> names;
  int calls = 0;
  HostResolver resolver() {
    return [this](const std::string& host) {
      ++calls;
      if (auto it = names.find(host); it != names.end()) return it->second;
      return resolve_host(host);  // numeric addresses only in these tests
    };
  }
};

// The reason a source is refused ("" when it is admitted).
std::string refusal(const SourcePolicy& policy, const std::string& source) {
  try {
    policy.admit(source);
    return "";
  } catch (const SourceNotAllowed& e) {
    return e.what();
  }
}

TEST(SourcePolicy, ByDefaultNetworkCamerasPassAndThisMachineAndLinkLocalDoNot) {
  FakeDns dns;
  dns.names["cam.example"] = {"203.0.113.7"};
  dns.names["sneaky.example"] = {"203.0.113.8", "127.0.0.1"};
  dns.names["nowhere.example"] = {};
  SourcePolicy policy({}, dns.resolver());
  EXPECT_EQ(policy.admit("rtsp://user:pw@cam.example:554/live"), "rtsp://user:pw@cam.example:554/live");
  EXPECT_EQ(policy.admit("http://192.168.1.20/video.mjpg"), "http://192.168.1.20/video.mjpg");

  EXPECT_EQ(refusal(policy, "http://127.0.0.1:8091/admin"),
            "source not allowed: host '127.0.0.1' is 127.0.0.1, a loopback address");
  EXPECT_EQ(refusal(policy, "http://sneaky.example/x"),
            "source not allowed: host 'sneaky.example' resolves to 127.0.0.1, a loopback address");
  EXPECT_NE(refusal(policy, "http://169.254.169.254/latest/meta-data").find("link-local"), std::string::npos);
  EXPECT_NE(refusal(policy, "http://[::1]:8091/").find("loopback"), std::string::npos);
  EXPECT_NE(refusal(policy, "http://[::ffff:127.0.0.1]:8091/").find("loopback"), std::string::npos);
  EXPECT_NE(refusal(policy, "http://0.0.0.0:8091/").find("unspecified"), std::string::npos);
  EXPECT_NE(refusal(policy, "udp://239.0.0.1:5000").find("scheme 'udp' is not allowed"), std::string::npos);
  EXPECT_NE(refusal(policy, "tcp://203.0.113.7:9000").find("scheme 'tcp'"), std::string::npos);
  EXPECT_NE(refusal(policy, "HTTP://127.0.0.1/").find("loopback"), std::string::npos);
  EXPECT_NE(refusal(policy, "http://nowhere.example/").find("does not resolve"), std::string::npos);
  // 127.0.0.1 written as one number: refused whichever way the parsers read it.
  EXPECT_NE(refusal(policy, "http://2130706433:8091/"), "");
}

TEST(SourcePolicy, HostPatternsNameTheOnlyHostsAndSpecialRangesOnlyByAddress) {
  FakeDns dns;
  dns.names["door.cams.lan"] = {"10.9.0.4"};
  dns.names["evil.cams.lan"] = {"127.0.0.2"};
  SourceRules rules;
  rules.hosts = {"10.1.0.0/16", "*.cams.lan", "127.0.0.1"};
  SourcePolicy policy(rules, dns.resolver());
  EXPECT_EQ(refusal(policy, "rtsp://10.1.2.3/stream"), "");
  EXPECT_EQ(refusal(policy, "rtsp://door.cams.lan/stream"), "");
  EXPECT_EQ(refusal(policy, "http://127.0.0.1:8554/relay"), "");  // named by address: allowed
  EXPECT_NE(refusal(policy, "rtsp://10.2.0.1/stream").find("outside the allowed hosts"), std::string::npos);
  EXPECT_NE(refusal(policy, "rtsp://evil.cams.lan/").find("resolves to 127.0.0.2, a loopback address"),
            std::string::npos);
  EXPECT_EQ(refusal(policy, "rtsp://127.0.0.2/"),
            "source not allowed: host '127.0.0.2' is 127.0.0.2, a loopback address");

  SourceRules names_only;
  names_only.hosts = {"*.cams.lan"};
  dns.calls = 0;
  SourcePolicy strict(names_only, dns.resolver());
  EXPECT_NE(refusal(strict, "rtsp://other.example/").find("not among the allowed hosts"), std::string::npos);
  EXPECT_EQ(dns.calls, 0) << "a host no pattern can allow is refused without a lookup";

  EXPECT_THROW(check_host_pattern("10.0.0.0/33"), std::invalid_argument);
  EXPECT_THROW(check_host_pattern("cam lan"), std::invalid_argument);
  EXPECT_NO_THROW(check_host_pattern("fd00::/8"));
  rules.hosts = {"10.0.0.0/x"};
  EXPECT_THROW(SourcePolicy{rules}, std::invalid_argument);
}

TEST(SourcePolicy, FilesOnlyInsideAllowedFoldersWithTheSameAnswerWhetherTheyExistOrNot) {
  test::TempDir dir;
  fs::create_directories(dir / "videos" / "sub");
  std::ofstream(dir / "videos" / "a.avi") << "x";
  std::ofstream(dir / "secret.avi") << "x";
  fs::create_directory_symlink(dir.path(), dir / "videos" / "up");
  ASSERT_EQ(mkfifo((dir / "videos" / "fifo").c_str(), 0600), 0);

  SourcePolicy closed;
  const std::string no_files =
      "source not allowed: local files are not allowed (the server allows no folder with --allow-source-dir)";
  EXPECT_EQ(refusal(closed, (dir / "videos" / "a.avi").string()), no_files);
  EXPECT_EQ(refusal(closed, "/no/such/file.avi"), no_files);
  EXPECT_EQ(refusal(closed, "concat:/etc/passwd|/etc/hosts"), no_files);

  SourceRules rules;
  rules.dirs = {(dir / "videos").string()};
  SourcePolicy policy(rules);
  const auto real_videos = fs::canonical(dir / "videos");
  EXPECT_EQ(policy.admit((dir / "videos" / "a.avi").string()), (real_videos / "a.avi").string());
  EXPECT_EQ(policy.admit("file://" + (dir / "videos" / "sub" / ".." / "a.avi").string()),
            (real_videos / "a.avi").string());
  EXPECT_EQ(policy.admit((dir / "videos" / "missing.avi").string()), (real_videos / "missing.avi").string());
  EXPECT_EQ(policy.admit((dir / "videos" / "sub").string() + "/"), (real_videos / "sub").string() + "/");

  const std::string outside = "source not allowed: the path is outside the allowed folders";
  EXPECT_EQ(refusal(policy, (dir / "secret.avi").string()), outside);
  EXPECT_EQ(refusal(policy, (dir / "missing.avi").string()), outside);
  EXPECT_EQ(refusal(policy, (dir / "videos" / ".." / "secret.avi").string()), outside);
  EXPECT_EQ(refusal(policy, "/etc/passwd"), outside);
  EXPECT_EQ(refusal(policy, (dir / "videos" / "up" / "secret.avi").string()),
            "source not allowed: the path leads outside the allowed folders");
  EXPECT_EQ(refusal(policy, (dir / "videos" / "fifo").string()),
            "source not allowed: the path is neither a regular file nor a folder");
  EXPECT_EQ(refusal(policy, "file://videos/a.avi"),
            "source not allowed: a file:// URL must name an absolute path");
  EXPECT_EQ(refusal(policy, (dir / "videos" / "a.avi").string() + std::string(1, '\0') + "x"),
            "source not allowed: it holds control characters");
}

TEST(SourcePolicy, DevicesOnlyWhereAllowed) {
  SourceRules rules;
  rules.dirs = {"/"};  // even a folder over /dev does not open devices
  SourcePolicy closed(rules);
  EXPECT_NE(refusal(closed, "/dev/video0").find("devices are not allowed"), std::string::npos);
  EXPECT_NE(refusal(closed, "/dev/zero").find("devices are not allowed"), std::string::npos);
  EXPECT_NE(refusal(closed, "/tmp/../dev/zero").find("devices are not allowed"), std::string::npos);

  rules.devices = {"/dev/video*"};
  SourcePolicy cameras(rules);
  EXPECT_EQ(cameras.admit("/dev/video0"), "/dev/video0");
  EXPECT_EQ(cameras.admit("file:///dev/video2"), "/dev/video2");
  EXPECT_NE(refusal(cameras, "/dev/zero").find("not among the allowed devices"), std::string::npos);
  rules.devices = {"video0"};
  EXPECT_THROW(SourcePolicy{rules}, std::invalid_argument);
}

}  // namespace
}  // namespace sf
