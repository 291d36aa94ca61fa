// `sightflow top --url URL`: the figures of a running `sightflow run --serve` / `serve` (GET /api/streams)
// as a terminal table refreshed every --interval seconds, like RedisEdge's top.py. Read-only: no token.
// An unreachable server or an unexpected answer is shown in place of the table and polling goes on.
#include <httplib.h>
#include <spdlog/fmt/fmt.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/top_view.hpp"
#include "http/http_url.hpp"
#include "http/tls.hpp"
#include "sightflow/frame.hpp"

namespace sf::cli {
namespace {

struct TopFlags {
  std::string url;
  std::string ca_file;
  double interval = 1;
  bool once = false;
};

struct Screen {
  bool ok;
  std::string text;
};

class StreamsPoller {
 public:
  StreamsPoller(const std::string& url, const std::string& ca_file)
      : url_(url), parts_(parse_http_url(url, "--url")) {
    client_ = make_http_client(parts_, ca_file);
    client_->set_connection_timeout(2);
    client_->set_read_timeout(5);
    auto base = parts_.path;
    while (!base.empty() && base.back() == '/') base.pop_back();
    path_ = base + "/api/streams";
  }

  // One screen: the table, or what went wrong (`retrying` says whether the next poll will come).
  Screen poll(const std::string& footer, bool retrying) {
    auto title = "sightflow top  " + url_ + "  " + format_utc(unix_now(), "%Y-%m-%d %H:%M:%S UTC");
    auto problem = [&](const std::string& message) {
      return Screen{false, render_top_problem(title, message + (retrying ? " (retrying)" : ""), footer)};
    };
    auto res = client_->Get(path_);
    if (!res)
      return problem("cannot reach " + url_ + ": " +
                     describe_request_error(*client_, res.error(), "--ca-file"));
    if (res->status != 200)
      return problem("GET " + path_ + " answered HTTP " + std::to_string(res->status) + ": " +
                     res->body.substr(0, 200));
    try {
      return {true, render_top(nlohmann::json::parse(res->body), title, footer)};
    } catch (const std::exception& e) {  // not JSON, or not the shape of docs/WEB.md
      return problem("unexpected answer from GET " + path_ + ": " + e.what());
    }
  }

  void stop() { client_->stop(); }  // ends a request in progress (Ctrl-C)

 private:
  std::string url_;
  HttpUrl parts_;
  std::string path_;
  std::unique_ptr<httplib::ClientImpl> client_;
};

int run_top(const TopFlags& f) {
  StreamsPoller poller(f.url, f.ca_file);
  if (f.once) {
    auto screen = poller.poll("", false);
    (screen.ok ? std::cout : std::cerr) << screen.text << std::flush;
    return screen.ok ? 0 : 1;
  }
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  InterruptWatch interrupt_watch([&] {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    wake.notify_all();
    poller.stop();
  });
  auto footer = "refreshing every " + fmt::format("{:g}", f.interval) + " s; Ctrl-C quits";
  while (true) {
    auto screen = poller.poll(footer, true);
    // Home and clear, then the frame: the terminal shows one frame, not a scrolling log.
    std::cout << "\033[H\033[2J" << screen.text << std::flush;
    std::unique_lock lock(mutex);
    if (wake.wait_for(lock, std::chrono::duration<double>(f.interval), [&] { return stop; })) break;
  }
  return 0;
}

}  // namespace

Command add_top_command(CLI::App& app) {
  auto flags = std::make_shared<TopFlags>();
  auto* cmd = app.add_subcommand("top", "Live per-stream figures of a sightflow web server, like top");
  cmd->add_option("--url", flags->url, "the server, e.g. http://127.0.0.1:8090")->required();
  cmd->add_option("--ca-file", flags->ca_file, "https: PEM certificates to trust (default: the system's CAs)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--interval", flags->interval, "seconds between refreshes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--once", flags->once, "print one frame without clearing the screen and exit (for scripts)");
  return [flags] { return run_top(*flags); };
}

}  // namespace sf::cli
