#include "test_support.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sf::test {

std::string vtest_path() { return "/usr/share/doc/opencv-doc/examples/data/vtest.avi"; }
std::string shared_dir() { return SIGHTFLOW_SHARED_DIR; }
std::string sightflow_bin() { return SIGHTFLOW_BINARY; }

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto candidate = base / ("sightflow-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// The environment of a child: ours, with every sanitizer's log_path pointed into `logs` (files
// logs/asan.PID, ...) so that a report of the child, or of anything it starts, is kept for reaped().
static std::vector<std::string> child_environment(const TempDir* logs) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  if (!logs) return env;
  for (const auto& [variable, prefix] : {std::pair<std::string, std::string>{"ASAN_OPTIONS", "asan"},
                                         {"UBSAN_OPTIONS", "ubsan"},
                                         {"LSAN_OPTIONS", "lsan"},
                                         {"TSAN_OPTIONS", "tsan"}}) {
    auto log_path = "log_path=" + (*logs / prefix).string();
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& kv) { return kv.starts_with(variable + "="); });
    if (it == env.end())
      env.push_back(variable + "=" + log_path);
    else
      *it += ":" + log_path;  // the later setting wins
  }
  return env;
}

static pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err,
                   const std::vector<std::string>& environment) {
  // Everything the child needs is built before fork: only async-signal-safe calls between fork and exec.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int efd = (err == out) ? ofd : ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int nul = ::open("/dev/null", O_RDONLY);
    ::dup2(nul, 0);
    ::dup2(ofd, 1);
    ::dup2(efd, 2);
    ::setpgid(0, 0);
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

namespace {

// What is known of a running child beyond its pid: its command line (for messages) and, under a sanitizer
// build, the folder its reports go to. Kept here by pid, so that ChildProcess stays a pid and the header
// (included by every test) changes only its interface.
struct ChildRecord {
  std::string command;
  std::unique_ptr<TempDir> sanitizer_logs;
};
std::mutex g_children_mutex;
std::map<pid_t, ChildRecord> g_children;

}  // namespace

bool sanitized_build() {
#ifdef SIGHTFLOW_SANITIZED
  return true;
#else
  return false;
#endif
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_file,
                           const std::string& stderr_file) {
  ChildRecord record;
  for (const auto& a : argv) record.command += (record.command.empty() ? "" : " ") + a;
  if (sanitized_build()) record.sanitizer_logs = std::make_unique<TempDir>();
  pid_ = spawn(argv, stdout_file, stderr_file, child_environment(record.sanitizer_logs.get()));
  std::lock_guard lock(g_children_mutex);
  g_children[pid_] = std::move(record);
}

ChildProcess::~ChildProcess() { stop(); }

void ChildProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  reaped();
}

// A sanitized server's shutdown includes the leak check, which takes a few seconds in a large process.
constexpr double kStopTimeoutS = 30;

void ChildProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  ::kill(pid_, SIGTERM);   // in case it has not yet made its group
  ::kill(-pid_, SIGCONT);  // a stopped child (a test's SIGSTOP) would never see the SIGTERM
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kStopTimeoutS);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string command;
  {
    std::lock_guard lock(g_children_mutex);
    command = g_children[pid_].command;
  }
  ADD_FAILURE() << "`" << command << "` did not end within " << kStopTimeoutS << " s of SIGTERM: killed";
  kill_hard();
}

void ChildProcess::reaped() {
  ChildRecord record;
  {
    std::lock_guard lock(g_children_mutex);
    auto it = g_children.find(pid_);
    if (it != g_children.end()) {
      record = std::move(it->second);
      g_children.erase(it);
    }
  }
  pid_ = -1;
  if (!record.sanitizer_logs) return;
  static const char* const kMarkers[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                         "runtime error:", "WARNING: ThreadSanitizer",
                                         "ERROR: ThreadSanitizer"};
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(record.sanitizer_logs->path(), ec)) {
    auto report = read_file(entry.path());
    bool is_report = std::any_of(std::begin(kMarkers), std::end(kMarkers), [&](const char* marker) {
      return report.find(marker) != std::string::npos;
    });
    if (is_report)
      ADD_FAILURE() << "sanitizer report of `" << record.command << "` (" << entry.path().filename().string()
                    << "):\n"
                    << report;
    else  // a warning that is no report (an allocation refused, say): shown, not failed
      std::fprintf(stderr, "sanitizer output of `%s` (%s):\n%s\n", record.command.c_str(),
                   entry.path().filename().string().c_str(), report.c_str());
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped();
    return false;
  }
  return true;
}

int ChildProcess::wait_exit(double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped();
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  return -1;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_command(const std::vector<std::string>& argv, std::string* output, double timeout_s) {
  TempDir dir;
  auto log = (dir / "output.txt").string();
  ChildProcess child(argv, log, log);
  int status = child.wait_exit(timeout_s);
  if (output) *output = read_file(log);
  return status;
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) break;
    out.push_back(j);
  }
  return out;
}

nlohmann::json last_json_line(const std::string& output) {
  auto end = output.find_last_not_of("\n");
  if (end == std::string::npos) return nlohmann::json::value_t::discarded;
  auto start = output.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return nlohmann::json::parse(output.substr(start, end - start + 1), nullptr, false);
}

std::string promtool_problems(const std::string& exposition) {
  TempDir dir;
  std::ofstream(dir / "metrics.txt") << exposition;
  std::string output;
  int status =
      run_command({"sh", "-c", "promtool check metrics < " + (dir / "metrics.txt").string()}, &output, 60);
  return status == 0 ? "" : "promtool exit " + std::to_string(status) + ": " + output;
}

int ffprobe_frame_count(const std::filesystem::path& video) {
  std::string output;
  const int status = run_command({"ffprobe", "-v", "quiet", "-count_frames", "-select_streams", "v:0",
                                  "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", video.string()},
                                 &output, 120);
  if (status != 0) return -1;
  try {
    return std::stoi(output);
  } catch (const std::exception&) {
    return -1;
  }
}

ScopedEnv::ScopedEnv(const char* name, const char* value) : name_(name) {
  if (const char* old = std::getenv(name)) old_ = old;
  if (value)
    ::setenv(name, value, 1);
  else
    ::unsetenv(name);
}

ScopedEnv::~ScopedEnv() {
  if (old_)
    ::setenv(name_, old_->c_str(), 1);
  else
    ::unsetenv(name_);
}

}  // namespace sf::test
