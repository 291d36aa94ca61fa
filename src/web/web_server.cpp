#include "web/web_server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/http_json.hpp"
#include "http/listen.hpp"
#include "pipeline/prometheus_text.hpp"
#include "web/web_assets.hpp"

namespace sf {

namespace {

constexpr const char* kBoundary = "sightflowframe";

// A string literal for SQL: quotes doubled (the store's query() takes one statement without parameters).
std::string sql_text(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string sql_number(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

bool same_token(const std::string& given, const std::string& expected) {
  if (expected.empty() || given.size() != expected.size()) return false;
  // Every byte is compared whatever the first difference, so the time taken does not reveal the token.
  unsigned char diff = 0;
  for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

bool changes_state(const httplib::Request& req) {
  if (req.method == "DELETE" || req.method == "PUT" || req.method == "PATCH") return true;
  // Predictions are reads of a model; registering a model or starting a stream changes the server.
  return req.method == "POST" && req.path.rfind("/predictions/", 0) != 0;
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

}  // namespace

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void check_listen_security(const std::string& host, const std::string& token) {
  if (!is_loopback(host) && token.empty())
    throw std::invalid_argument(
        "refusing to listen on " + host +
        " without a token: give --token (or $SIGHTFLOW_TOKEN), or listen on 127.0.0.1");
}

WebServer::WebServer(WebOptions options, LiveView& live, StreamController& streams)
    : options_(std::move(options)),
      live_(live),
      streams_(streams),
      server_(std::make_unique<httplib::Server>()) {
  check_listen_security(options_.host, options_.token);
  if (options_.video_fps <= 0) throw std::invalid_argument("--video-fps must be above 0");
  if (!options_.db.empty()) store_ = open_store(options_.db);
  auto threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_tcp_nodelay(true);
  routes();
}

WebServer::~WebServer() { stop(); }

void WebServer::add_metrics_text(std::function<std::string()> render) {
  extra_metrics_.push_back(std::move(render));
}

void WebServer::start() { port_ = listen_in_background(*server_, options_.host, options_.port, thread_); }

void WebServer::stop() {
  live_.close();
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string WebServer::url() const { return "http://" + options_.host + ":" + std::to_string(port_); }

QueryRows WebServer::query(const std::string& sql) {
  std::lock_guard lock(store_mutex_);
  return store_->query(sql);
}

void WebServer::routes() {
  auto& s = *server_;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!changes_state(req)) return httplib::Server::HandlerResponse::Unhandled;
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
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
  set_json_error_handler(s, [](int status) -> std::string {
    return status == 404   ? "NotFound"
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
        [this, stream](bool) { live_.viewer_left(stream); });
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
  s.Delete(R"(/api/streams/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      std::string stream = req.matches[1];
      streams_.stop(stream);
      send_json(res, {{"name", stream}, {"state", "stopping"}});
    });
  });
  s.Get("/api/counts", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      if (!req.has_param("stream")) throw HttpError(400, "BadRequestException", "give stream=NAME");
      double now = unix_now();
      double to = query_number(req, "to").value_or(now);
      double from = query_number(req, "from").value_or(to - 300);
      std::string step = req.has_param("step") ? req.get_param_value("step") : "1s";
      std::string label = req.has_param("label") ? req.get_param_value("label") : "*";
      std::string algo = req.has_param("algo") ? req.get_param_value("algo") : "";
      send_json(res, counts(req.get_param_value("stream"), algo, label, from, to, step));
    });
  });
  s.Get("/api/metrics", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, [&] { res.set_content(streams_.metrics_json().dump(), "application/json"); });
  });
}

nlohmann::ordered_json WebServer::counts(const std::string& stream, std::string algo,
                                         const std::string& label, double from, double to,
                                         const std::string& step) {
  double step_s = 0;
  for (const auto& level : kRollupLevels)
    if (step == level.name) step_s = level.seconds;
  if (step_s == 0)
    throw HttpError(400, "BadRequestException", "step must be 1s, 1m or 1h, got '" + step + "'");
  if (!(from <= to)) throw HttpError(400, "BadRequestException", "from must not be after to");
  if (algo.empty()) {
    auto algos = live_.history().algorithms(stream);
    if (!algos.empty()) algo = algos.front();
    if (algo.empty() && store_) {
      auto rows = query("SELECT DISTINCT algo FROM rollups WHERE stream = " + sql_text(stream) + " LIMIT 1");
      if (!rows.rows.empty()) algo = rows.rows[0][0].get<std::string>();
    }
  }
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  std::string source = "memory";
  if (store_ && !algo.empty()) {
    auto rows = query("SELECT bucket, avg, min, max, samples FROM counts WHERE stream = " + sql_text(stream) +
                      " AND algo = " + sql_text(algo) + " AND label = " + sql_text(label) + " AND level = " +
                      sql_text(step) + " AND bucket >= " + sql_number(bucket_start(from, step_s)) +
                      " AND bucket <= " + sql_number(to) + " ORDER BY bucket");
    for (const auto& r : rows.rows)
      points.push_back({{"t", r[0]}, {"avg", r[1]}, {"min", r[2]}, {"max", r[3]}, {"samples", r[4]}});
    if (!points.empty()) source = "store";
  }
  if (points.empty()) {
    for (const auto& p : live_.history().points(stream, algo, label, from, to, step_s))
      points.push_back({{"t", p.t}, {"avg", p.avg}, {"min", p.min}, {"max", p.max}, {"samples", p.samples}});
  }
  return {{"stream", stream}, {"algo", algo},     {"label", label},
          {"step", step},     {"source", source}, {"points", points}};
}

void WebServer::frame_routes() {
  auto& s = *server_;
  s.Get("/api/frames", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      if (!store_) throw HttpError(404, "NotFound", "this server has no results store (--db)");
      std::string where = "archive_path IS NOT NULL";
      if (req.has_param("stream")) where += " AND stream = " + sql_text(req.get_param_value("stream"));
      if (auto from = query_number(req, "from")) where += " AND ts >= " + sql_number(*from);
      if (auto to = query_number(req, "to")) where += " AND ts <= " + sql_number(*to);
      auto limit = query_number(req, "limit").value_or(100);
      if (limit < 1 || limit > 10000) throw HttpError(400, "BadRequestException", "limit must be 1..10000");
      auto rows = query("SELECT stream, seq, ts, width, height FROM frames WHERE " + where +
                        " ORDER BY ts DESC LIMIT " + std::to_string(int64_t(limit)));
      nlohmann::ordered_json frames = nlohmann::ordered_json::array();
      for (const auto& r : rows.rows) {
        auto stream = r[0].get<std::string>();
        auto seq = r[1].get<int64_t>();
        frames.push_back(
            nlohmann::ordered_json{{"stream", stream},
                                   {"seq", seq},
                                   {"ts", r[2]},
                                   {"width", r[3]},
                                   {"height", r[4]},
                                   {"url", "/api/frames/" + httplib::detail::encode_query_param(stream) +
                                               "/" + std::to_string(seq) + ".jpg"}});
      }
      send_json(res, {{"frames", frames}});
    });
  });
  s.Get(R"(/api/frames/([^/]+)/(\d+)\.jpg)", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      if (!store_ || options_.archive_dir.empty())
        throw HttpError(404, "NotFound", "this server has no frame archive (--db and --archive)");
      std::string stream = req.matches[1];
      std::string seq = req.matches[2];
      auto rows = query("SELECT archive_path FROM frames WHERE stream = " + sql_text(stream) +
                        " AND seq = " + seq + " AND archive_path IS NOT NULL");
      if (rows.rows.empty())
        throw HttpError(404, "NotFound", "no archived frame " + seq + " of stream '" + stream + "'");
      namespace fs = std::filesystem;
      std::error_code ec;
      auto root = fs::weakly_canonical(options_.archive_dir, ec);
      auto file = fs::weakly_canonical(root / rows.rows[0][0].get<std::string>(), ec);
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

std::string WebServer::metrics_text() {
  PrometheusText text;
  streams_.add_metrics(text);
  for (const auto& stream : live_.streams())
    text.gauge("sightflow_video_viewers", "MJPEG viewers watching the stream.", {{"stream", stream}},
               live_.viewers(stream));
  for (const auto& stream : live_.streams())
    for (const auto& algo : live_.history().algorithms(stream)) {
      int count = live_.latest_count(stream, algo);
      if (count >= 0)
        text.gauge("sightflow_latest_detections", "Detections in the newest result (people counted now).",
                   {{"stream", stream}, {"algo", algo}}, count);
    }
  std::string out = text.str();
  for (const auto& render : extra_metrics_) {
    try {
      out += render();
    } catch (const std::exception& e) {
      spdlog::warn("web: a metrics source failed: {}", e.what());
    }
  }
  return out;
}

}  // namespace sf
