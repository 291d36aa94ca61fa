#pragma once
// Helpers shared by the tests: data paths, temporary folders, free ports and child processes.
#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sf::test {

std::string vtest_path();     // OpenCV's PETS2009 sample (opencv-doc)
std::string shared_dir();     // ../shared next to the repository
std::string sightflow_bin();  // the built CLI

// A fresh temporary folder, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that was free when asked.
int free_tcp_port();

// A child process started with execvp in a process group of its own. On destruction, if still running, it
// is asked to end (SIGTERM to its group, so that servers shut down and the leak checker runs); SIGKILL only
// after a bounded wait, and that fails the test. Under a sanitizer build the child and its descendants write
// their sanitizer reports (ASan, LSan, UBSan, TSan) into a folder of its own, read once it has ended: a
// report there fails the test that started it.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_file = "/dev/null",
                        const std::string& stderr_file = "/dev/null");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }
  void kill_hard();                      // SIGKILL and reap: for tests that mean a crash
  void stop();                           // SIGTERM, a bounded wait, then SIGKILL (a test failure); reaped
  int wait_exit(double timeout_s = 60);  // exit status, or -1 on timeout (then stopped)
  bool running();

 private:
  void reaped();  // the child has ended: its sanitizer reports are read

  pid_t pid_ = -1;  // the rest of what is known of a child is kept by pid in test_support.cpp
};

// Whether this is a sanitizer build (CMake sets SIGHTFLOW_SANITIZED for it): tests then use short inputs,
// since a sanitized run is several times slower and the code paths are those of the long input.
bool sanitized_build();

// Runs a command to completion and returns its exit status; output captured into `output` (stdout+stderr).
int run_command(const std::vector<std::string>& argv, std::string* output, double timeout_s = 300);

std::string read_file(const std::filesystem::path& path);

// The objects of a JSON Lines file, up to the first line that does not parse (a live writer's last line
// may be incomplete).
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path);

// The last line of a command's output parsed as JSON (discarded when it is not JSON).
nlohmann::json last_json_line(const std::string& output);

// What `promtool check metrics` finds wrong with a Prometheus exposition (format and naming lint): "" when
// it passes, else its exit status and output.
std::string promtool_problems(const std::string& exposition);

// How many video frames ffprobe decodes from a file (-count_frames): an independent count to compare a
// source's with; -1 when ffprobe fails.
int ffprobe_frame_count(const std::filesystem::path& video);

// Sets an environment variable (nullptr: unsets it) for the lifetime of the object, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace sf::test
