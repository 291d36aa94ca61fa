// The command line as people and scripts meet it: --version, unknown words, the one exit status of usage
// errors, --summary-json - on stdout, NO_COLOR, and a progress bar that ends at 100%. Terminals are real
// ones (a pseudo-terminal from util-linux's `script`).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "test_support.hpp"

namespace sf {
namespace {

constexpr int kUsageError = 64;  // README, "Exit status"

// Runs `command` (one shell line) with stdout and stderr on a terminal; returns what the terminal showed.
std::string in_terminal(const std::string& environment, const std::string& command, int* status = nullptr) {
  std::string output;
  int rc = test::run_command(
      {"sh", "-c", "env TERM=xterm " + environment + " script -qec '" + command + "' /dev/null"}, &output);
  if (status) *status = rc;
  return output;
}

std::string run_line(const test::TempDir& dir, int frames) {
  return test::sightflow_bin() + " run --source " + test::vtest_path() + " --detector none --max-frames " +
         std::to_string(frames) + " --out " + (dir / "r.jsonl").string();
}

TEST(Cli, VersionPrintsTheVersionRevisionAndLibraries) {
  std::string output;
  ASSERT_EQ(test::run_command({test::sightflow_bin(), "--version"}, &output), 0) << output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(output, m,
                                std::regex(R"(^sightflow \d+\.\d+\.\d+ \(git ([0-9a-f]{12}|unknown)\)\n)")))
      << output;
  EXPECT_TRUE(std::regex_search(output, std::regex(R"(\nOpenCV 4\.\d+)"))) << output;
  EXPECT_TRUE(std::regex_search(output, std::regex(R"(\nFFmpeg \S+)"))) << output;
}

TEST(Cli, UsageErrorsExitWithOneStatusAndSayWhatWasWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{"frobnicate"}, "unknown subcommand 'frobnicate' (one of run, eval,"},
           {{"--versoin"}, "unknown option '--versoin'"},
           {{}, "A subcommand is required"},
           {{"run", "--nope"}, "--nope"},
           {{"run", "--max-frames", "many"}, "many"},
           {{"client", "--url", "http://127.0.0.1:1"}, "--model"},
           {{"serve", "--video-fps", "0"}, "--video-fps"},
       }) {
    std::vector<std::string> argv = {test::sightflow_bin()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    std::string output;
    EXPECT_EQ(test::run_command(argv, &output), kUsageError) << output;
    EXPECT_NE(output.find(c.says), std::string::npos) << output;
  }
  std::string output;
  EXPECT_EQ(test::run_command({test::sightflow_bin(), "run", "--help"}, &output), 0) << output;
  EXPECT_NE(output.find("--summary-json"), std::string::npos) << output;
}

TEST(Cli, SummaryJsonDashWritesTheSummaryToStdout) {
  test::TempDir dir;
  std::filesystem::remove("-");
  test::ChildProcess run(
      {test::sightflow_bin(), "run", "--source", test::vtest_path(), "--detector", "none", "--max-frames",
       "3", "--no-progress", "--out", (dir / "r.jsonl").string(), "--summary-json", "-"},
      (dir / "stdout").string(), (dir / "stderr").string());
  ASSERT_EQ(run.wait_exit(), 0) << test::read_file(dir / "stderr");
  auto summary = nlohmann::json::parse(test::read_file(dir / "stdout"), nullptr, false);
  ASSERT_TRUE(summary.is_object()) << test::read_file(dir / "stdout");
  EXPECT_EQ(summary["error"], "");
  EXPECT_EQ(summary["streams"]["vtest"]["frames_read"], 3) << summary.dump();
  EXPECT_FALSE(std::filesystem::exists("-")) << "no file named '-'";
}

TEST(Cli, NoColorTurnsOffTheLogsColours) {
  test::TempDir dir;
  auto coloured = in_terminal("", run_line(dir, 2) + " --no-progress");
  EXPECT_NE(coloured.find("\033["), std::string::npos) << "spdlog colours a terminal: " << coloured;
  EXPECT_NE(in_terminal("NO_COLOR=", run_line(dir, 2) + " --no-progress").find("\033["), std::string::npos)
      << "an empty NO_COLOR leaves colour on (no-color.org)";
  auto plain = in_terminal("NO_COLOR=1", run_line(dir, 2) + " --no-progress");
  EXPECT_NE(plain.find("stream vtest <-"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("\033["), std::string::npos) << plain;
}

TEST(Cli, TheProgressBarEndsAtTheFullCount) {
  test::TempDir dir;
  int status = 0;
  auto screen = in_terminal("", run_line(dir, 30), &status);
  ASSERT_EQ(status, 0) << screen;
  EXPECT_NE(screen.find("100% 30/30 frames"), std::string::npos) << screen;
}

}  // namespace
}  // namespace sf
