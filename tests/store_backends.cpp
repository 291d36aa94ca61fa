#include "store_backends.hpp"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace sf::test {
namespace {

class SqliteBackend : public StoreBackend {
 public:
  explicit SqliteBackend(std::filesystem::path file) : file_(std::move(file)) {}
  std::string url() const override { return file_.string(); }

 private:
  std::filesystem::path file_;
};

// The PostgreSQL server's programs: Debian keeps them per major version, /usr/lib/postgresql/<N>/bin.
std::string postgres_program(const std::string& name) {
  std::filesystem::path best;
  int best_version = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > best_version && std::filesystem::exists(entry.path() / "bin" / name)) {
      best_version = version;
      best = entry.path() / "bin" / name;
    }
  }
  if (best.empty())
    throw std::runtime_error("PostgreSQL server programs not found (apt-get install postgresql)");
  return best.string();
}

// initdb and postgres refuse to run as root: tests run as root start them as the Debian `postgres` account
// (or nobody), and hand the folder the server writes to that account.
struct ServerAccount {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

ServerAccount server_account() {
  if (::geteuid() != 0) return {};
  const passwd* pw = ::getpwnam("postgres");
  if (!pw) pw = ::getpwnam("nobody");
  if (!pw) throw std::runtime_error("running as root, and no postgres or nobody account to run PostgreSQL");
  return {true, pw->pw_uid, pw->pw_gid};
}

// Starts a server program as the server account, output appended to `log`. It gets SIGINT (a fast shutdown)
// when the thread that started it (the tests' main thread) dies, so a crashed test leaves no server
// behind; the signal is set after the change of user, which would clear it.
pid_t spawn_server_program(const std::vector<std::string>& argv, const std::string& log) {
  auto account = server_account();
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid > 0) return pid;
  int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int in = ::open("/dev/null", O_RDONLY);
  if (out < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
  ::setpgid(0, 0);  // a Ctrl-C in the terminal reaches the tests only; they stop the server
  if (account.switch_user &&
      (::setgroups(0, nullptr) != 0 || ::setgid(account.gid) != 0 || ::setuid(account.uid) != 0))
    ::_exit(126);
  ::prctl(PR_SET_PDEATHSIG, SIGINT);
  if (::getppid() != parent) ::_exit(0);  // the tests died before the signal was set
  ::execv(args[0], args.data());
  ::_exit(127);
}

bool exited(pid_t pid, int* status) { return ::waitpid(pid, status, WNOHANG) == pid; }

// The PostgreSQL server of this test process: initdb into a temporary folder (about a second), started on
// 127.0.0.1 and a free port, TCP only (no Unix socket whose path could be too long), without fsync. It is
// started when a test first asks for it and stopped at exit; each test gets a database of its own.
class PostgresServer {
 public:
  static const PostgresServer& shared() {
    static const PostgresServer server;
    return server;
  }

  PostgresServer() {
    auto account = server_account();
    if (account.switch_user && ::chown(dir_.path().c_str(), account.uid, account.gid) != 0)
      throw std::runtime_error("cannot hand " + dir_.path().string() + " to the PostgreSQL server's account");
    auto data = (dir_ / "data").string();
    pid_t initdb =
        spawn_server_program({postgres_program("initdb"), "-D", data, "-U", "sightflow", "--auth=trust", "-E",
                              "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                             log_);
    int status = 0;
    if (::waitpid(initdb, &status, 0) != initdb || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("initdb failed: " + read_file(log_));
    for (int attempt = 0; pid_ < 0; ++attempt) {
      port_ = free_tcp_port();
      pid_ = spawn_server_program({postgres_program("postgres"), "-D", data, "-h", "127.0.0.1", "-p",
                                   std::to_string(port_), "-k", "", "-F"},
                                  log_);
      if (!wait_until_ready()) {
        stop();  // most likely the port was taken in between: try another
        if (attempt == 2) throw std::runtime_error("PostgreSQL server did not start: " + read_file(log_));
      }
    }
  }
  ~PostgresServer() {
    if (::getpid() == owner_) stop();  // not in a forked child that exits
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Runs one statement as the superuser, in database `postgres`.
  void admin(const std::string& sql) const {
    auto conninfo = "host=127.0.0.1 port=" + std::to_string(port_) + " user=sightflow dbname=postgres";
    PGconn* conn = PQconnectdb(conninfo.c_str());
    PGresult* result = PQexec(conn, sql.c_str());
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    std::string error = PQerrorMessage(conn);
    PQclear(result);
    PQfinish(conn);
    if (!ok) throw std::runtime_error(sql + ": " + error);
  }
  int port() const { return port_; }

 private:
  bool wait_until_ready() {
    auto conninfo = "host=127.0.0.1 port=" + std::to_string(port_) + " user=sightflow dbname=postgres";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) return true;
      if (exited(pid_, &status)) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  void stop() {
    if (pid_ < 0) return;
    ::kill(pid_, SIGINT);  // fast shutdown: ends the sessions, removes its shared memory
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!exited(pid_, &status)) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

  pid_t owner_ = ::getpid();
  TempDir dir_;
  std::string log_ = (dir_ / "server.log").string();
  int port_ = 0;
  pid_t pid_ = -1;
};

// A database of its own on the shared server, dropped (with its sessions) when the test ends.
class PostgresBackend : public StoreBackend {
 public:
  PostgresBackend() : server_(PostgresServer::shared()) {
    std::random_device random;
    database_ = "t_" + std::to_string(random()) + std::to_string(random());
    // FILE_COPY copies template1 in a third of the time of WAL_LOG, the default since PostgreSQL 15.
    server_.admin("CREATE DATABASE " + database_ + " STRATEGY FILE_COPY");
  }
  ~PostgresBackend() override {
    try {
      server_.admin("DROP DATABASE " + database_ + " WITH (FORCE)");
    } catch (const std::exception&) {
      // the folder goes with the server anyway
    }
  }
  std::string url() const override {
    return "postgresql://sightflow@127.0.0.1:" + std::to_string(server_.port()) + "/" + database_;
  }

 private:
  const PostgresServer& server_;
  std::string database_;
};

}  // namespace

std::vector<std::string> store_backends() { return {"sqlite", "postgres"}; }

std::unique_ptr<StoreBackend> make_store_backend(const std::string& name, const std::filesystem::path& dir) {
  if (name == "sqlite") return std::make_unique<SqliteBackend>(dir / "store.db");
  if (name == "postgres") return std::make_unique<PostgresBackend>();
  throw std::invalid_argument("unknown store backend " + name);
}

}  // namespace sf::test
