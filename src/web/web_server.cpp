#include "web/web_server.hpp"

#include <httplib.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "http/http_json.hpp"
#include "http/listen.hpp"
#include "http/listen_security.hpp"
#include "web/web_assets.hpp"
#include "web/web_metrics.hpp"

namespace sf {

namespace {

constexpr const char* kBoundary = "sightflowframe";
constexpr double kWholeTimeline = 1e12;  // seconds: a media series' bounds when none are given

// The roll-up level a `step` names, in seconds; 400 for anything else.
double step_seconds(const std::string& step) {
  for (const auto& level : kRollupLevels)
    if (step == level.name) return level.seconds;
  throw HttpError(400, "BadRequestException", "step must be 1s, 1m or 1h, got '" + step + "'");
}

std::string param(const httplib::Request& req, const char* name, const std::string& fallback = "") {
  return req.has_param(name) ? req.get_param_value(name) : fallback;
}

// A series' question from ?stream=&algo=&from=&to=&step=&clock= (1 s buckets by default; bounds not given
// are NaN until WebServer::settle_clock knows the clock).
SeriesQuery series_query(const httplib::Request& req, const char* name_param) {
  if (!req.has_param("stream")) throw HttpError(400, "BadRequestException", "give stream=NAME");
  SeriesQuery q;
  q.stream = req.get_param_value("stream");
  q.algo = param(req, "algo");
  q.level = param(req, "step", "1s");
  step_seconds(q.level);
  q.clock = param(req, "clock", "auto");
  if (q.clock != "auto" && q.clock != "wall" && q.clock != "media")
    throw HttpError(400, "BadRequestException", "clock must be wall, media or auto, got '" + q.clock + "'");
  q.to = query_number(req, "to").value_or(std::nan(""));
  q.from = query_number(req, "from").value_or(std::nan(""));
  q.name = param(req, name_param);
  return q;
}

std::string frame_url(const std::string& stream, int64_t seq) {
  return "/api/frames/" + httplib::detail::encode_query_param(stream) + "/" + std::to_string(seq) + ".jpg";
}

bool same_token(const std::string& given, const std::string& expected) {
  // OpenSSL's compare takes the same time wherever the first difference is, so timing does not reveal the
  // token.
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

bool changes_state(const httplib::Request& req) {
  // Predictions (POST, or PUT as `curl -T` sends them) are reads of a model; registering a model or
  // starting a stream changes the server.
  if (req.path.rfind("/predictions/", 0) == 0) return false;
  return req.method == "POST" || req.method == "PUT" || req.method == "PATCH" || req.method == "DELETE";
}

// Runs a route's body, turning HttpError and other exceptions into JSON errors.
template <typename Body>
void answer(httplib::Response& res, Body&& body) {
  try {
    body();
  } catch (const HttpError& e) {
    send_error(res, e.status, e.type, e.what());
  } catch (const std::exception& e) {
    send_error(res, 500, "InternalServerException", e.what());
  }
}

ConnectionLimits connection_limits(const WebOptions& options) {
  if (options.threads < 2) throw std::invalid_argument("the web server needs at least 2 threads");
  if (!(options.idle_timeout_s > 0) || !(options.request_timeout_s > 0))
    throw std::invalid_argument("--idle-timeout and --request-timeout must be above 0");
  ConnectionLimits limits;
  limits.threads = size_t(options.threads);
  limits.idle_timeout_s = options.idle_timeout_s;
  limits.request_timeout_s = options.request_timeout_s;
  limits.max_body_bytes = options.max_body_bytes;
  return limits;
}

}  // namespace

WebServer::WebServer(WebOptions options, LiveView& live, StreamController& streams)
    : options_(std::move(options)),
      live_(live),
      streams_(streams),
      server_(make_http_server(options_.tls, connection_limits(options_))),
      figures_(std::make_shared<FamilySource>([this](MetricFamilies& out) {
        streams_.add_metrics(out);
        add_live_view_metrics(out, live_);
      })) {
  metrics_.add(figures_);
  check_listen_security(options_.host, options_.token);
  if (options_.video_fps <= 0) throw std::invalid_argument("--video-fps must be above 0");
  if (options_.max_viewers == 0) options_.max_viewers = std::max(1, options_.threads / 2);
  if (options_.max_viewers < 0 || options_.max_viewers >= options_.threads)
    throw std::invalid_argument("--max-viewers must be at least 1 and below the server's threads (" +
                                std::to_string(options_.threads) + "): each viewer holds one");
  if (!options_.db.empty()) store_ = open_store(options_.db);
  server_->set_tcp_nodelay(true);
  // cpp-httplib closes a kept-alive connection after 5 requests by default; a camera client sends
  // thousands, each new connection costing a handshake.
  server_->set_keep_alive_max_count(100000);
  routes();
}

WebServer::~WebServer() { stop(); }

void WebServer::start() { port_ = listen_in_background(*server_, options_.host, options_.port, thread_); }

void WebServer::stop() {
  live_.close();
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string WebServer::url() const {
  return (options_.tls.enabled() ? "https://" : "http://") + options_.host + ":" + std::to_string(port_);
}

template <typename Read>
auto WebServer::read_store(Read&& read) {
  std::lock_guard lock(store_mutex_);
  return read(*store_);
}

void WebServer::routes() {
  auto& s = *server_;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!changes_state(req)) return httplib::Server::HandlerResponse::Unhandled;
    // Not found before unauthorized; a state-changing route that was not declared is never reached.
    if (!guarded_.matches(req.method, req.path)) {
      send_error(res, 404, "ResourceNotFoundException", "no such endpoint: " + req.method + " " + req.path);
      return httplib::Server::HandlerResponse::Handled;
    }
    auto header = req.get_header_value("Authorization");
    const std::string bearer = "Bearer ";
    std::string given = header.rfind(bearer, 0) == 0 ? header.substr(bearer.size()) : "";
    if (options_.token.empty()) {
      send_error(res, 401, "Unauthorized",
                 "this server has no token, so it accepts no changes: start it with --token");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!same_token(given, options_.token)) {
      send_error(
          res, 401, "Unauthorized",
          given.empty() ? "this route changes state: send Authorization: Bearer TOKEN" : "wrong token");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  dashboard_routes();
  video_route();
  api_routes();
  frame_routes();
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, [&] { res.set_content(metrics_.text(), "text/plain; version=0.0.4"); });
  });
  set_json_error_handler(s, [](int status) -> std::string {
    return status == 404   ? "ResourceNotFoundException"
           : status == 413 ? "RequestEntityTooLargeException"
                           : "BadRequestException";
  });
}

// The dashboard's page, script and style, compiled into the binary (web_assets.hpp). no-cache: a browser
// shows a rebuilt binary's dashboard at once, not one it kept.
void WebServer::dashboard_routes() {
  server_->Get(R"(/|/assets/[^/]+)", [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* asset = find_web_asset(req.path);
    if (!asset) return send_error(res, 404, "NotFound", "no dashboard file '" + req.path + "'");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(asset->body.data(), asset->body.size(), std::string(asset->content_type));
  });
}

void WebServer::video_route() {
  server_->Get(R"(/video/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string stream = req.matches[1];
    double fps = options_.video_fps;
    try {
      if (auto asked = query_number(req, "fps")) fps = std::clamp(*asked, 0.1, options_.video_fps);
    } catch (const HttpError& e) {
      return send_error(res, e.status, e.type, e.what());
    }
    if (!live_.has_stream(stream)) {
      try {
        streams_.describe(stream);  // a known stream that has no frame yet is worth waiting for
      } catch (const HttpError& e) {
        return send_error(res, e.status, e.type, e.what());
      }
    }
    // Each viewer holds a thread: past the cap, API calls would find none.
    if (++viewers_ > options_.max_viewers) {
      --viewers_;
      return send_error(res, 503, "ServiceUnavailable",
                        "this server already streams video to " + std::to_string(options_.max_viewers) +
                            " viewers (--max-viewers)");
    }
    live_.viewer_joined(stream);
    auto last = std::make_shared<int64_t>(0);
    auto next_due = std::make_shared<double>(0);
    res.set_header("Cache-Control", "no-cache, no-store");
    res.set_chunked_content_provider(
        std::string("multipart/x-mixed-replace; boundary=") + kBoundary,
        [this, stream, fps, last, next_due](size_t, httplib::DataSink& sink) {
          // The per-viewer cap: wait until this viewer's next slot, then take the newest frame.
          double wait = *next_due - steady_now();
          if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, 1.0)));
          if (steady_now() < *next_due) return true;
          auto frame = live_.next_frame(stream, *last, 1.0);
          if (!frame) return sink.is_writable();  // nothing new yet (or shutting down: the loop ends)
          *last = frame->version;
          *next_due = steady_now() + 1.0 / fps;
          std::string head =
              std::string("--") + kBoundary +
              "\r\nContent-Type: image/jpeg\r\nContent-Length: " + std::to_string(frame->bytes->size()) +
              "\r\n\r\n";
          return sink.write(head.data(), head.size()) &&
                 sink.write(reinterpret_cast<const char*>(frame->bytes->data()), frame->bytes->size()) &&
                 sink.write("\r\n", 2);
        },
        [this, stream](bool) {
          live_.viewer_left(stream);
          --viewers_;
        });
  });

  server_->Get(R"(/snapshot/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string stream = req.matches[1];
    auto frame = live_.has_stream(stream) ? live_.next_frame(stream, 0, 5.0) : std::nullopt;
    if (!frame) return send_error(res, 404, "NotFound", "no frame of stream '" + stream + "' yet");
    res.set_content(reinterpret_cast<const char*>(frame->bytes->data()), frame->bytes->size(), "image/jpeg");
  });
}

void WebServer::api_routes() {
  auto& s = *server_;
  s.Get("/api/streams", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, [&] { send_json(res, {{"streams", streams_.list()}}); });
  });
  s.Get(R"(/api/streams/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { send_json(res, streams_.describe(req.matches[1])); });
  });
  s.Get(R"(/api/streams/([^/]+)/latest)", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      std::string stream = req.matches[1];
      streams_.describe(stream);  // 404 for an unknown stream
      send_json(res, {{"results", live_.latest_results(stream)}});
    });
  });
  s.Post("/api/streams", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      nlohmann::json body;
      try {
        body = nlohmann::json::parse(req.body);
      } catch (const nlohmann::json::parse_error& e) {
        throw HttpError(400, "BadRequestException", std::string("the body is not JSON: ") + e.what());
      }
      send_json(res, streams_.start(parse_stream_request(body)), 201);
    });
  });
  guarded_.add("POST", "/api/streams");
  s.Delete(R"(/api/streams/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      std::string stream = req.matches[1];
      streams_.stop(stream);
      send_json(res, {{"name", stream}, {"state", "stopping"}});
    });
  });
  guarded_.add("DELETE", R"(/api/streams/([^/]+))");
  s.Get("/api/counts", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { send_json(res, counts(series_query(req, "label"))); });
  });
  s.Get("/api/lines", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { send_json(res, line_series(series_query(req, "line"))); });
  });
  s.Get("/api/zones", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { send_json(res, zone_series(series_query(req, "zone"))); });
  });
  s.Get("/api/events", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      EventQuery q;
      q.stream = param(req, "stream");
      q.type = param(req, "type");
      q.from = query_number(req, "from");
      q.to = query_number(req, "to");
      auto limit = query_number(req, "limit").value_or(50);
      if (limit < 1 || limit > 1000) throw HttpError(400, "BadRequestException", "limit must be 1..1000");
      q.limit = int64_t(limit);
      if (q.from && q.to && !(*q.from <= *q.to))
        throw HttpError(400, "BadRequestException", "from must not be after to");
      send_json(res, events(q));
    });
  });
  s.Get(R"(/api/events/(\d{1,18})\.jpg)", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      auto jpeg = live_.events().thumbnail(std::stoll(req.matches[1]));
      if (!jpeg) throw HttpError(404, "NotFound", "no thumbnail of event " + std::string(req.matches[1]));
      res.set_header("Cache-Control", "max-age=3600");  // an event's thumbnail never changes
      res.set_content(reinterpret_cast<const char*>(jpeg->data()), jpeg->size(), "image/jpeg");
    });
  });
  s.Get("/api/metrics", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, [&] { res.set_content(streams_.metrics_json().dump(), "application/json"); });
  });
}

std::string WebServer::default_algorithm(const std::string& stream, const std::vector<std::string>& live) {
  if (!live.empty()) return live.front();
  if (!store_) return "";
  auto stored = read_store([&](Store& store) { return store.algorithms(stream); });
  return stored.empty() ? "" : stored.front();
}

void WebServer::settle_clock(SeriesQuery& q) {
  if (store_)
    q.clock = read_store([&](Store& store) { return store.resolve_clock(q.stream, q.clock); });
  else if (q.clock == "auto")
    q.clock = "wall";  // the memory keeps capture times only
  if (q.clock == "wall") {
    if (std::isnan(q.to)) q.to = unix_now();
    if (std::isnan(q.from)) q.from = q.to - 300;
  } else {
    // Media seconds from the stream's start: the whole timeline (a media time is never this large).
    if (std::isnan(q.to)) q.to = kWholeTimeline;
    if (std::isnan(q.from)) q.from = std::min(-kWholeTimeline, q.to);
  }
  if (!(q.from <= q.to)) throw HttpError(400, "BadRequestException", "from must not be after to");
}

nlohmann::ordered_json WebServer::counts(SeriesQuery q) {
  settle_clock(q);
  const double step_s = step_seconds(q.level);
  if (q.name.empty()) q.name = "*";
  if (q.algo.empty()) q.algo = default_algorithm(q.stream, live_.history().algorithms(q.stream));
  std::vector<CountBucket> buckets;
  std::string source = "memory";
  if (store_ && !q.algo.empty()) {
    buckets = read_store([&](Store& store) { return store.count_series(q); });
    if (!buckets.empty()) source = "store";
  }
  if (buckets.empty() && q.clock == "wall")
    for (const auto& p : live_.history().points(q.stream, q.algo, q.name, q.from, q.to, step_s))
      buckets.push_back({p.t, p.avg, p.min, p.max, p.samples});
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const auto& b : buckets)
    points.push_back({{"t", b.t}, {"avg", b.avg}, {"min", b.min}, {"max", b.max}, {"samples", b.samples}});
  return {{"stream", q.stream}, {"algo", q.algo},   {"label", q.name}, {"step", q.level},
          {"clock", q.clock},   {"source", source}, {"points", points}};
}

nlohmann::ordered_json WebServer::line_series(SeriesQuery q) {
  settle_clock(q);
  const double step_s = step_seconds(q.level);
  if (q.algo.empty()) q.algo = default_algorithm(q.stream, live_.analytics_history().algorithms(q.stream));
  std::vector<LineBucket> buckets;
  std::string source = "memory";
  if (store_ && !q.algo.empty()) {
    buckets = read_store([&](Store& store) { return store.line_series(q); });
    if (!buckets.empty()) source = "store";
  }
  if (buckets.empty() && q.clock == "wall") buckets = live_.analytics_history().lines(q, step_s);
  nlohmann::ordered_json lines = nlohmann::ordered_json::object();
  for (const auto& b : buckets) {
    auto& points = lines[b.line];
    if (points.is_null()) points = nlohmann::ordered_json::array();
    points.push_back({{"t", b.t}, {"in", b.in}, {"out", b.out}, {"samples", b.samples}});
  }
  return {{"stream", q.stream}, {"algo", q.algo},   {"step", q.level},
          {"clock", q.clock},   {"source", source}, {"lines", lines}};
}

nlohmann::ordered_json WebServer::zone_series(SeriesQuery q) {
  settle_clock(q);
  const double step_s = step_seconds(q.level);
  if (q.algo.empty()) q.algo = default_algorithm(q.stream, live_.analytics_history().algorithms(q.stream));
  std::vector<ZoneBucket> buckets;
  std::string source = "memory";
  if (store_ && !q.algo.empty()) {
    buckets = read_store([&](Store& store) { return store.zone_series(q); });
    if (!buckets.empty()) source = "store";
  }
  if (buckets.empty() && q.clock == "wall") buckets = live_.analytics_history().zones(q, step_s);
  nlohmann::ordered_json zones = nlohmann::ordered_json::object();
  for (const auto& b : buckets) {
    auto& points = zones[b.zone];
    if (points.is_null()) points = nlohmann::ordered_json::array();
    points.push_back({{"t", b.t}, {"avg", b.avg}, {"min", b.min}, {"max", b.max}, {"samples", b.samples}});
  }
  return {{"stream", q.stream}, {"algo", q.algo},   {"step", q.level},
          {"clock", q.clock},   {"source", source}, {"zones", zones}};
}

nlohmann::ordered_json WebServer::events(const EventQuery& q) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  const auto& log = live_.events();
  std::string source = store_ ? "store" : "memory";
  if (store_) {
    for (const auto& e : read_store([&](Store& store) { return store.events(q); })) {
      auto json = event_json(e);
      // A thumbnail while the event is recent; the archived frame when the archive kept it.
      if (auto id = log.find(e); id && log.thumbnail(*id))
        json["thumbnail"] = "/api/events/" + std::to_string(*id) + ".jpg";
      else if (e.archived && !options_.archive_dir.empty())
        json["thumbnail"] = frame_url(e.stream, e.frame);
      list.push_back(std::move(json));
    }
  } else {
    for (const auto& l : log.recent(q)) {
      auto json = event_json(l.event);
      if (l.thumbnail) json["thumbnail"] = "/api/events/" + std::to_string(l.id) + ".jpg";
      list.push_back(std::move(json));
    }
  }
  return {{"source", source}, {"events", list}};
}

void WebServer::frame_routes() {
  auto& s = *server_;
  s.Get("/api/frames", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      if (!store_) throw HttpError(404, "NotFound", "this server has no results store (--db)");
      FrameQuery q;
      q.stream = param(req, "stream");
      q.from = query_number(req, "from");
      q.to = query_number(req, "to");
      auto limit = query_number(req, "limit").value_or(100);
      if (limit < 1 || limit > 10000) throw HttpError(400, "BadRequestException", "limit must be 1..10000");
      q.limit = int64_t(limit);
      nlohmann::ordered_json frames = nlohmann::ordered_json::array();
      for (const auto& f : read_store([&](Store& store) { return store.frames(q); }))
        frames.push_back(nlohmann::ordered_json{{"stream", f.stream},
                                                {"seq", f.seq},
                                                {"ts", f.ts},
                                                {"width", f.width},
                                                {"height", f.height},
                                                {"url", frame_url(f.stream, f.seq)}});
      send_json(res, {{"frames", frames}});
    });
  });
  s.Get(R"(/api/frames/([^/]+)/(\d+)\.jpg)", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      if (!store_ || options_.archive_dir.empty())
        throw HttpError(404, "NotFound", "this server has no frame archive (--db and --archive)");
      std::string stream = req.matches[1];
      std::string seq = req.matches[2];
      auto path = read_store([&](Store& store) { return store.archive_path(stream, std::stoll(seq)); });
      if (!path) throw HttpError(404, "NotFound", "no archived frame " + seq + " of stream '" + stream + "'");
      namespace fs = std::filesystem;
      std::error_code ec;
      auto root = fs::weakly_canonical(options_.archive_dir, ec);
      auto file = fs::weakly_canonical(root / *path, ec);
      auto relative = file.lexically_relative(root);
      // Only files inside the archive folder are served, whatever path the row holds.
      if (ec || relative.empty() || *relative.begin() == "..")
        throw HttpError(403, "Forbidden",
                        "archived path of frame " + seq + " lies outside the archive folder");
      std::ifstream in(file, std::ios::binary);
      if (!in) throw HttpError(404, "NotFound", "archived frame file is gone: " + relative.string());
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      res.set_content(bytes, "image/jpeg");
    });
  });
}

}  // namespace sf
