// `sightflow client`: an edge client for `sightflow serve` (the TorchServe-style inference API). One thread
// decodes the source and JPEG-encodes its frames into a bounded queue; sender threads post them to
// POST /predictions/MODEL, either one frame per request with --batch-size requests in flight at once (the
// server joins them into batches), or --client-batching: --batch-size frames in one request (a JSON array of
// base64 JPEGs). Results are printed in frame order, with the frames-per-second line of TorchServe's
// request.py every 20 frames; a summary with latency percentiles ends the run.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/source_flags.hpp"
#include "cli/summary_json.hpp"
#include "common/base64.hpp"
#include "http/http_url.hpp"
#include "http/tls.hpp"
#include "media/jpeg_codec.hpp"
#include "sightflow/bounded_queue.hpp"
#include "sightflow/source.hpp"

namespace sf::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct ClientFlags {
  std::string url;
  std::string model;
  SourceFlags source;
  int batch_size = 1;
  bool client_batching = false;
  int quality = 90;
  std::string summary_json;
  std::string ca_file;
  bool quiet = false;
  double timeout_s = 60;
  int max_retries = 5;
};

// The server and the path prefix its routes are under ("/prefix", or empty).
struct Endpoint {
  HttpUrl server;
  std::string prefix;
};

Endpoint parse_endpoint(const std::string& url) {
  // "HOST:PORT" alone means http, as curl reads it.
  Endpoint e{parse_http_url(url.find("://") == std::string::npos ? "http://" + url : url, "--url"), ""};
  e.prefix = e.server.path.substr(0, e.server.path.find('?'));
  while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  return e;
}

// The server cannot be reached (refused, unknown host, no connection): the run stops, exit code 2.
class Unreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An answer that makes every further request pointless (404: unknown model): the run stops, exit code 1.
class FatalAnswer : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Encoded {
  int64_t frame = 0;
  std::vector<unsigned char> jpeg;
};

// The server's error object {"code","type","message"} as one line, or the body itself when it is not one.
std::string describe_error(int status, const std::string& body) {
  std::string text = "HTTP " + std::to_string(status);
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message")) {
    if (j.contains("type") && j["type"].is_string()) text += " " + j["type"].get<std::string>();
    text += ": " + (j["message"].is_string() ? j["message"].get<std::string>() : j["message"].dump());
  } else if (!body.empty()) {
    text += ": " + body.substr(0, 200);
  }
  return text;
}

nlohmann::json error_json(int status, const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message")) return j;
  return {{"code", status}, {"type", "HttpError"}, {"message", describe_error(status, body)}};
}

// A transport error in words (for TLS, why the certificate was refused), with a hint at the likely cause
// when nothing answered.
std::string transport_error(const httplib::ClientImpl& http, httplib::Error error) {
  auto text = describe_request_error(http, error, "--ca-file");
  if (error == httplib::Error::Connection) text += " (is `sightflow serve` running there?)";
  return text;
}

// An item of a batch answer that is an error object rather than a result.
bool is_error_object(const nlohmann::json& j) {
  return j.is_object() && j.contains("code") && j["code"].is_number() && j.contains("message") &&
         j["message"].is_string();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double rank = p / 100.0 * double(v.size() - 1);
  size_t lo = size_t(std::floor(rank)), hi = size_t(std::ceil(rank));
  return v[lo] + (v[hi] - v[lo]) * (rank - double(lo));
}

// Collects the answers, which come back out of order when several requests are in flight, and prints them
// in frame order (one JSON line each), with the frames-per-second line every 20 frames.
class ResultPrinter {
 public:
  enum class Kind { Result, Error, Dropped };

  ResultPrinter(bool quiet, int batch_size, Clock::time_point start)
      : quiet_(quiet), batch_size_(batch_size), start_(start) {}

  void done(int64_t frame, Kind kind, nlohmann::json body = {}) {
    std::lock_guard lock(mutex_);
    pending_.emplace(frame, Answer{kind, std::move(body)});
    while (!pending_.empty() && pending_.begin()->first == next_) {
      emit(pending_.begin()->first, pending_.begin()->second);
      pending_.erase(pending_.begin());
      ++next_;
    }
  }

  // At the end: what is still held (frames after a gap left by an interruption) is printed in order.
  void finish() {
    std::lock_guard lock(mutex_);
    for (auto& [frame, answer] : pending_) emit(frame, answer);
    pending_.clear();
    std::cout.flush();
  }

 private:
  struct Answer {
    Kind kind;
    nlohmann::json body;
  };

  void emit(int64_t frame, const Answer& a) {
    if (a.kind == Kind::Dropped) return;
    if (!quiet_) {
      nlohmann::ordered_json line{{"frame", frame}, {a.kind == Kind::Result ? "result" : "error", a.body}};
      std::cout << line.dump() << "\n";
    }
    if (++answered_ % 20 == 0) {
      double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
      char text[128];
      std::snprintf(text, sizeof text, "With batch size %d, FPS at frame %lld is %.1f\n", batch_size_,
                    (long long)answered_, seconds > 0 ? double(answered_) / seconds : 0.0);
      std::cout << text << std::flush;
    }
  }

  const bool quiet_;
  const int batch_size_;
  const Clock::time_point start_;
  std::mutex mutex_;
  std::map<int64_t, Answer> pending_;
  int64_t next_ = 0, answered_ = 0;
};

class Client {
 public:
  Client(ClientFlags f, Endpoint endpoint)
      : f_(std::move(f)),
        endpoint_(std::move(endpoint)),
        path_(endpoint_.prefix + "/predictions/" + f_.model) {}

  int run() {
    int senders = f_.client_batching ? 1 : f_.batch_size;
    for (int i = 0; i < senders; ++i) https_.push_back(make_http());
    ping(*https_.front());

    auto source = open_source(f_.source.source(SIGHTFLOW_DEFAULT_VIDEO), f_.source.options());
    // Files: the reader waits for the senders (no frame lost). Live sources: the oldest queued frame is
    // dropped instead, so what is sent stays current and the capture device is never left unread.
    auto policy = source->live() ? OverflowPolicy::DropOldest : OverflowPolicy::Block;
    BoundedQueue<Encoded> queue(size_t(2 * f_.batch_size + 2), policy);
    start_ = Clock::now();
    ResultPrinter printer(f_.quiet, f_.batch_size, start_);

    std::vector<std::thread> threads;
    for (int i = 0; i < senders; ++i) {
      threads.emplace_back([&, i] {
        try {
          if (f_.client_batching)
            send_batches(*https_[size_t(i)], queue, printer);
          else
            send_frames(*https_[size_t(i)], queue, printer);
        } catch (const std::exception& e) {
          fail(e, queue, *source);
        }
      });
    }
    InterruptWatch interrupt_watch([&] {
      std::cerr << "sightflow client: interrupted; stopping\n";
      stop(queue, *source);
    });

    int64_t read = 0, dropped = 0;
    try {
      while (!stop_ && (f_.source.max_frames < 0 || read < f_.source.max_frames)) {
        auto frame = source->read();
        if (!frame) break;
        std::optional<Encoded> evicted;
        if (!queue.push(Encoded{read, encode_jpeg(frame->image, f_.quality)}, &evicted)) break;
        if (evicted) {
          printer.done(evicted->frame, ResultPrinter::Kind::Dropped);
          ++dropped;
        }
        ++read;
      }
    } catch (const std::exception& e) {
      if (!stop_) fail(e, queue, *source);
    }
    queue.close();
    for (auto& t : threads) t.join();
    printer.finish();
    double seconds = std::chrono::duration<double>(last_answer_ - start_).count();
    if (ok_frames_ == 0) seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return report(read, dropped, seconds);
  }

 private:
  std::unique_ptr<httplib::ClientImpl> make_http() const {
    auto http = make_http_client(endpoint_.server, f_.ca_file);
    http->set_keep_alive(true);
    http->set_tcp_nodelay(true);  // the body goes out after the headers: no Nagle wait for the last bytes
    http->set_connection_timeout(5);
    auto timeout_us = int64_t(f_.timeout_s * 1e6);
    http->set_read_timeout(time_t(timeout_us / 1000000), time_t(timeout_us % 1000000));
    http->set_write_timeout(time_t(timeout_us / 1000000), time_t(timeout_us % 1000000));
    return http;
  }

  void ping(httplib::ClientImpl& http) {
    auto res = http.Get(endpoint_.prefix + "/ping");
    if (!res) throw Unreachable("cannot reach " + f_.url + ": " + transport_error(http, res.error()));
    if (res->status != 200)
      std::cerr << "sightflow client: warning: " << f_.url << "/ping answered "
                << describe_error(res->status, res->body) << "\n";
  }

  struct Reply {
    bool answered = false;  // false: interrupted, or no answer (read error) after the retries
    int status = 0;
    std::string body;
    std::string error;  // transport error when not answered
  };

  // Posts with bounded retries: 503 (queue full) after Retry-After; a broken keep-alive connection once
  // more. No connection at all -> Unreachable; 404 (unknown model) -> FatalAnswer.
  Reply post(httplib::ClientImpl& http, const char* body, size_t size, const char* content_type) {
    int busy = 0, broken = 0;
    while (true) {
      ++requests_;
      auto res = http.Post(path_, body, size, content_type);
      if (stop_) return {};
      if (!res) {
        auto err = res.error();
        if (++broken <= 2) {
          ++retries_;
          sleep_for(0.1 * broken);
          continue;
        }
        if (err == httplib::Error::Connection || err == httplib::Error::ConnectionTimeout)
          throw Unreachable("cannot reach " + f_.url + ": " + transport_error(http, err));
        return {false, 0, "", "no answer from " + f_.url + ": " + transport_error(http, err)};
      }
      if (res->status == 503 && busy < f_.max_retries) {
        double wait = 0.1 * (1 << busy);
        if (res->has_header("Retry-After")) {
          try {
            wait = std::stod(res->get_header_value("Retry-After"));
          } catch (const std::exception&) {
          }
        }
        ++busy;
        ++retries_;
        sleep_for(std::clamp(wait, 0.0, 10.0));
        if (stop_) return {};
        continue;
      }
      if (res->status == 404) throw FatalAnswer(describe_error(res->status, res->body));
      return {true, res->status, std::move(res->body), ""};
    }
  }

  void sleep_for(double seconds) {
    auto until =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (!stop_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // Server batching: one frame per request; each of the --batch-size senders keeps one request in flight.
  void send_frames(httplib::ClientImpl& http, BoundedQueue<Encoded>& queue, ResultPrinter& printer) {
    while (auto item = queue.pop()) {
      if (stop_) break;
      auto sent = Clock::now();
      auto reply =
          post(http, reinterpret_cast<const char*>(item->jpeg.data()), item->jpeg.size(), "image/jpeg");
      if (stop_) break;
      answer(reply, sent, {item->frame}, printer);
    }
  }

  // Client batching: --batch-size frames (fewer at the end) in one request, a JSON array of base64 JPEGs.
  void send_batches(httplib::ClientImpl& http, BoundedQueue<Encoded>& queue, ResultPrinter& printer) {
    while (!stop_) {
      std::vector<int64_t> frames;
      std::string body = "[";
      while (int(frames.size()) < f_.batch_size) {
        auto item = queue.pop();
        if (!item) break;
        if (!frames.empty()) body += ',';
        body +=
            '"' + base64_encode({reinterpret_cast<const char*>(item->jpeg.data()), item->jpeg.size()}) + '"';
        frames.push_back(item->frame);
      }
      body += ']';
      if (frames.empty() || stop_) break;
      auto sent = Clock::now();
      auto reply = post(http, body.data(), body.size(), "application/json");
      if (stop_) break;
      answer(reply, sent, frames, printer);
    }
  }

  // Hands the answer to one request (for these frames) to the printer, and counts it.
  void answer(const Reply& reply, Clock::time_point sent, const std::vector<int64_t>& frames,
              ResultPrinter& printer) {
    auto now = Clock::now();
    auto all_failed = [&](const nlohmann::json& error, const std::string& text) {
      note_error(frames, text);
      for (auto frame : frames) printer.done(frame, ResultPrinter::Kind::Error, error);
    };
    if (!reply.answered) {
      all_failed({{"code", 0}, {"type", "NoAnswer"}, {"message", reply.error}}, reply.error);
      return;
    }
    if (reply.status < 200 || reply.status >= 300) {
      all_failed(error_json(reply.status, reply.body), describe_error(reply.status, reply.body));
      return;
    }
    auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (j.is_discarded()) {
      all_failed({{"code", reply.status}, {"type", "BadAnswer"}, {"message", "answer is not JSON"}},
                 "answer is not JSON: " + reply.body.substr(0, 200));
      return;
    }
    if (f_.client_batching && (!j.is_array() || j.size() != frames.size())) {
      std::string text = "batch of " + std::to_string(frames.size()) + " frames answered with " +
                         (j.is_array() ? std::to_string(j.size()) + " results" : "no array");
      all_failed({{"code", reply.status}, {"type", "BadAnswer"}, {"message", text}}, text);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      latencies_ms_.push_back(std::chrono::duration<double, std::milli>(now - sent).count());
      last_answer_ = std::max(last_answer_, now);
    }
    for (size_t i = 0; i < frames.size(); ++i) {
      const auto& result = f_.client_batching ? j[i] : j;
      if (is_error_object(result)) {
        note_error({frames[i]}, describe_error(result["code"].get<int>(), result.dump()));
        printer.done(frames[i], ResultPrinter::Kind::Error, result);
      } else {
        ++ok_frames_;
        printer.done(frames[i], ResultPrinter::Kind::Result, result);
      }
    }
  }

  void note_error(const std::vector<int64_t>& frames, const std::string& text) {
    ++errors_;
    failed_frames_ += int64_t(frames.size());
    constexpr int64_t kPrinted = 20;
    int64_t n = ++errors_printed_;
    if (n > kPrinted) return;
    std::string which = "frame " + std::to_string(frames.front());
    if (frames.size() > 1)
      which = "frames " + std::to_string(frames.front()) + "-" + std::to_string(frames.back());
    std::cerr << "sightflow client: " << which << ": " << text << "\n";
    if (n == kPrinted) std::cerr << "sightflow client: further errors are counted, not printed\n";
  }

  void stop(BoundedQueue<Encoded>& queue, Source& source) {
    stop_ = true;
    queue.close();
    source.interrupt();
    for (auto& http : https_) http->stop();
  }

  void fail(const std::exception& e, BoundedQueue<Encoded>& queue, Source& source) {
    {
      std::lock_guard lock(mutex_);
      if (!fatal_.empty()) return;
      fatal_ = e.what();
      fatal_code_ = dynamic_cast<const Unreachable*>(&e) ? 2 : 1;
    }
    stop(queue, source);
  }

  int report(int64_t read, int64_t dropped, double seconds) {
    double fps = seconds > 0 ? double(ok_frames_) / seconds : 0;
    double p50 = percentile(latencies_ms_, 50), p99 = percentile(latencies_ms_, 99);
    nlohmann::ordered_json summary{{"frames", ok_frames_.load()},
                                   {"seconds", seconds},
                                   {"fps", fps},
                                   {"latency_p50_ms", p50},
                                   {"latency_p99_ms", p99},
                                   {"errors", errors_.load()},
                                   {"batch_size", f_.batch_size},
                                   {"client_batching", f_.client_batching},
                                   {"model", f_.model},
                                   {"url", f_.url},
                                   {"frames_read", read},
                                   {"frames_failed", failed_frames_.load()},
                                   {"frames_dropped", dropped},
                                   {"requests", int64_t(latencies_ms_.size())},
                                   {"attempts", requests_.load()},
                                   {"retries", retries_.load()},
                                   {"error", fatal_}};
    char line[512];
    std::snprintf(
        line, sizeof line,
        "client: %lld frames answered in %.2f s (%.1f fps), latency p50 %.1f ms p99 %.1f ms per request, "
        "%lld errors (%lld frames), %lld retries; batch size %d, %s batching\n",
        (long long)ok_frames_.load(), seconds, fps, p50, p99, (long long)errors_.load(),
        (long long)failed_frames_.load(), (long long)retries_.load(), f_.batch_size,
        f_.client_batching ? "client" : "server");
    std::cerr << line;
    write_summary_json(f_.summary_json, summary);
    if (!fatal_.empty()) {
      std::cerr << "sightflow: error: " << fatal_ << "\n";
      return fatal_code_;
    }
    return failed_frames_ > 0 ? 1 : 0;
  }

  const ClientFlags f_;
  const Endpoint endpoint_;
  const std::string path_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> https_;
  std::atomic<bool> stop_{false};
  Clock::time_point start_, last_answer_;
  std::mutex mutex_;  // latencies_ms_, last_answer_, fatal_
  std::vector<double> latencies_ms_;
  std::atomic<int64_t> ok_frames_{0}, errors_{0}, failed_frames_{0}, errors_printed_{0}, requests_{0},
      retries_{0};
  std::string fatal_;
  int fatal_code_ = 0;
};

int client(const ClientFlags& f) {
  if (f.batch_size < 1) throw std::invalid_argument("--batch-size must be at least 1");
  try {
    Client client(f, parse_endpoint(f.url));
    return client.run();
  } catch (const Unreachable& e) {
    std::cerr << "sightflow: error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

Command add_client_command(CLI::App& app) {
  auto flags = std::make_shared<ClientFlags>();
  auto& f = *flags;
  auto* cmd = app.add_subcommand("client", "Send a source's frames to a `sightflow serve` inference API");
  cmd->add_option("--url", f.url, "server, e.g. http://127.0.0.1:8080 or https://host:8443")->required();
  cmd->add_option("--ca-file", f.ca_file,
                  "https: PEM certificates to trust (a private CA, or a self-signed server's certificate); "
                  "default: the system's CAs")
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", f.model, "model name on the server (POST /predictions/MODEL)")->required();
  f.source.add_to(*cmd, false);
  cmd->add_option("--batch-size", f.batch_size,
                  "server batching: requests in flight at once, one frame each; with --client-batching: "
                  "frames per request")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag(
      "--client-batching", f.client_batching,
      "send --batch-size frames in one request (JSON array of base64 JPEGs), one request at a time");
  cmd->add_option("--quality", f.quality, "JPEG quality")->check(CLI::Range(1, 100))->capture_default_str();
  cmd->add_option("--summary-json", f.summary_json,
                  "write frames, seconds, fps, latency percentiles and errors as JSON to this file (- for "
                  "stdout)");
  cmd->add_flag("--quiet", f.quiet, "no result lines (the FPS lines and the summary stay)");
  cmd->add_option("--timeout", f.timeout_s, "seconds to wait for one answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-retries", f.max_retries, "retries of a request answered 503 (server busy)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return [flags] { return client(*flags); };
}

}  // namespace sf::cli
