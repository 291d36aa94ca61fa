#include "test_support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
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

static pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
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
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_file,
                           const std::string& stderr_file)
    : pid_(spawn(argv, stdout_file, stderr_file)) {}

ChildProcess::~ChildProcess() { kill_hard(); }

void ChildProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
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
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_hard();
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
