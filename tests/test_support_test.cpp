// The child-process helper every CLI and server test relies on: children end with SIGTERM (their exit
// handlers and a sanitizer's leak check run), and under a sanitizer build a report of a child fails the
// test that started it.
#include "test_support.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace sf {
namespace {

bool wait_for_file(const std::filesystem::path& path) {
  for (int i = 0; i < 600 && !std::filesystem::exists(path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return std::filesystem::exists(path);
}

TEST(ChildProcess, IsEndedWithSigtermSoThatItsShutdownRuns) {
  test::TempDir dir;
  auto ready = dir / "ready", terminated = dir / "terminated";
  {
    test::ChildProcess child({"sh", "-c",
                              "trap 'echo bye > " + terminated.string() + "; exit 0' TERM; touch " +
                                  ready.string() + "; while :; do sleep 0.1; done"});
    ASSERT_TRUE(wait_for_file(ready));
  }
  EXPECT_EQ(test::read_file(terminated), "bye\n");
}

// Run in a child by the test below (disabled, so never on its own): it does what the sanitizer of this
// build reports.
TEST(DISABLED_SanitizerReportHelper, Misbehaves) {
#if defined(__SANITIZE_THREAD__)
  int shared = 0;
  std::thread writer([&] { shared = 1; });
  shared = 2;  // a data race
  writer.join();
#else
  [[maybe_unused]] static int* volatile leaked;
  leaked = new int[16];  // a leak, reported at exit
  leaked = nullptr;
#endif
}

// Runs the helper above in a child of this (sanitized) test binary, to its end.
void run_a_misbehaving_child() {
  test::ChildProcess child({std::filesystem::read_symlink("/proc/self/exe").string(),
                            "--gtest_also_run_disabled_tests",
                            "--gtest_filter=DISABLED_SanitizerReportHelper.Misbehaves"});
  child.wait_exit(120);
}

TEST(ChildProcess, ASanitizerReportOfAChildFailsTheTestThatStartedIt) {
  if (!test::sanitized_build()) GTEST_SKIP() << "not a sanitizer build";
  EXPECT_NONFATAL_FAILURE(run_a_misbehaving_child(), "sanitizer report of");
}

}  // namespace
}  // namespace sf
