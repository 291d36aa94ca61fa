// Output files that outlive a crash hold whole lines only (JSON Lines results, events, MOT tracks, webhook
// dead letters: common/line_file), and whole files are replaced at once (datasets, eval's tracks:
// common/atomic_file). stdio used to write the results file in 4 KiB blocks: after kill -9 its last line
// was cut.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "common/atomic_file.hpp"
#include "common/line_file.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

// Files may not grow past `bytes` while this lives (write(2) then fails with EFBIG: a full disk, in small).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_);
  }

 private:
  rlimit saved_{};
  void (*previous_)(int) = nullptr;
};

TEST(WholeLines, ARunKilledMidWayLeavesOnlyWholeLines) {
  test::TempDir dir;
  const auto out = dir / "r.jsonl";
  test::ChildProcess run({test::sightflow_bin(), "run", "--source", test::vtest_path(), "--detector", "hog",
                          "--out", out.string(), "--no-progress"});
  // Killed once a few blocks have gone out (bounded wait: HOG gives a result every few tenths of a second).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  std::error_code ec;
  while (std::chrono::steady_clock::now() < deadline &&
         !(std::filesystem::exists(out, ec) && std::filesystem::file_size(out, ec) > 10000))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  run.kill_hard();
  const std::string text = test::read_file(out);
  ASSERT_GT(text.size(), 10000u) << "the run wrote too little before the deadline";
  EXPECT_EQ(text.back(), '\n') << "torn last line: ..." << text.substr(text.size() - 80);
  size_t lines = 0;
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1, ++lines)
    EXPECT_NO_THROW(nlohmann::json::parse(text.substr(start, end - start))) << "line " << lines + 1;
  EXPECT_GT(lines, 5u);
}

TEST(WholeLines, AWriteThatFailsHalfWayIsCutBackToTheLastWholeLine) {
  test::TempDir dir;
  const auto path = (dir / "lines.jsonl").string();
  LineFile file(path, LineFile::Mode::Truncate, "results file");
  file.write("{\"frame\":0}\n");
  {
    FileSizeLimit limit(20);  // room for 8 more bytes: the next line starts, then the disk is "full"
    try {
      file.write("{\"frame\":1,\"detections\":[]}\n");
      ADD_FAILURE() << "the write past the limit did not fail";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("cannot write results file " + path), std::string::npos)
          << e.what();
    }
  }
  file.write("{\"frame\":2}\n");  // appends after the last whole line
  file.close();
  EXPECT_EQ(test::read_file(path), "{\"frame\":0}\n{\"frame\":2}\n");
}

TEST(WholeLines, AppendModeKeepsWhatWasThere) {
  test::TempDir dir;
  const auto path = (dir / "dead.jsonl").string();
  LineFile(path, LineFile::Mode::Append, "dead-letter file").write("a\n");
  LineFile(path, LineFile::Mode::Append, "dead-letter file").write("b\n");
  EXPECT_EQ(test::read_file(path), "a\nb\n");
}

TEST(WholeFiles, AFailedReplacementLeavesTheOldFileAndNoTemporary) {
  test::TempDir dir;
  const auto path = dir / "annotations.json";
  write_file_atomically(path, "{\"old\":true}\n");
  {
    FileSizeLimit limit(64);
    EXPECT_THROW(write_file_atomically(path, std::string(1000, 'x')), std::runtime_error);
  }
  EXPECT_EQ(test::read_file(path), "{\"old\":true}\n");
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
  write_file_atomically(path, "{\"new\":true}\n");
  EXPECT_EQ(test::read_file(path), "{\"new\":true}\n");
}

}  // namespace
}  // namespace sf
