#include "serve/inference_server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <limits>
#include <sstream>

#include "http/http_json.hpp"
#include "http/listen.hpp"
#include "serve/prediction_json.hpp"
#include "serve/request_images.hpp"

namespace sf {

namespace {

const char* error_type(int status) {
  switch (status) {
    case 400:
      return "BadRequestException";
    case 413:
      return "RequestEntityTooLargeException";
    case 503:
      return "ServiceUnavailableException";
    default:
      return "InternalServerException";
  }
}

template <typename Number>
std::optional<Number> query_as(const httplib::Request& req, const std::string& key) {
  auto value = query_number(req, key);
  if (!value) return std::nullopt;
  if (!(*value >= double(std::numeric_limits<Number>::lowest()) &&
        *value <= double(std::numeric_limits<Number>::max())))
    throw HttpError(400, "BadRequestException", "parameter " + key + " is out of range");
  return Number(*value);
}

}  // namespace

InferenceServer::InferenceServer(InferenceService& service, ServerOptions options)
    : service_(service),
      options_(std::move(options)),
      own_server_(std::make_unique<httplib::Server>()),
      server_(own_server_.get()) {
  auto threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  server_->set_payload_max_length(options_.max_body_bytes);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the client's
  // delayed ACK hold every answer on a kept-alive connection for ~40 ms.
  server_->set_tcp_nodelay(true);
  routes(true);
}

InferenceServer::InferenceServer(InferenceService& service, httplib::Server& shared)
    : service_(service), server_(&shared) {
  routes(false);
}

InferenceServer::~InferenceServer() { stop(); }

void InferenceServer::count(const std::string& model, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{model, status == -1 ? 200 : status}];  // -1: not set by the handler, the library sends 200
}

void InferenceServer::routes(bool standalone) {
  auto& s = *server_;
  s.Get("/ping", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"status", "Healthy"}});
  });

  s.Post(R"(/predictions/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string model = req.matches[1];
    try {
      std::vector<std::string> parts;
      for (const auto& [name, file] : req.files) parts.push_back(file.content);
      auto request = parse_request_images(req.get_header_value("Content-Type"), req.body, parts);
      auto task = service_.info(model).task;
      auto outputs = service_.predict(model, request.images);
      if (request.batch) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& output : outputs) list.push_back(prediction_json(output, task));
        send_json(res, list);
      } else {
        send_json(res, prediction_json(outputs.at(0), task));
      }
    } catch (const ServiceError& e) {
      send_error(res, e.status, e.type, e.what());
    } catch (const std::exception& e) {
      spdlog::error("serve: {} failed: {}", req.path, e.what());
      send_error(res, 500, error_type(500), e.what());
    }
    count(model, res.status);
  });

  s.Get("/models", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::ordered_json models = nlohmann::ordered_json::array();
    for (const auto& name : service_.model_names())
      models.push_back({{"modelName", name}, {"modelUrl", name}});
    send_json(res, {{"models", models}});
  });

  s.Get(R"(/models/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      res.set_content(service_.describe(req.matches[1]).dump(), "application/json");
    } catch (const ServiceError& e) {
      send_error(res, e.status, e.type, e.what());
    }
  });

  s.Post("/models", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      std::string name =
          req.has_param("model_name") ? req.get_param_value("model_name") : req.get_param_value("url");
      if (name.empty())
        throw ServiceError(400, "BadRequestException", "give model_name (or url) of a catalog model");
      auto workers = query_as<int>(req, "initial_workers");
      service_.register_model(name, query_as<int>(req, "batch_size"),
                              query_as<double>(req, "max_batch_delay"), workers);
      send_json(res, {{"status", "Model \"" + name + "\" registered with " +
                                     std::to_string(workers.value_or(1)) + " initial workers"}});
    } catch (const ServiceError& e) {
      send_error(res, e.status, e.type, e.what());
    } catch (const std::exception& e) {
      send_error(res, 500, error_type(500), e.what());
    }
  });

  if (!standalone) return;
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });

  set_json_error_handler(s, [](int status) -> std::string {
    return status == 404 ? "ResourceNotFoundException" : error_type(status);
  });
}

std::string InferenceServer::metrics_text() const {
  std::ostringstream out;
  out << "# HELP sightflow_inference_requests_total Prediction requests answered, by model and HTTP status.\n"
         "# TYPE sightflow_inference_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_)
      out << "sightflow_inference_requests_total{model=\"" << key.first << "\",code=\"" << key.second
          << "\"} " << n << "\n";
  }
  out << "# HELP sightflow_inference_batch_size Images per forward pass, by model.\n"
         "# TYPE sightflow_inference_batch_size histogram\n";
  for (const auto& name : service_.model_names()) {
    auto described = service_.describe(name)[0];
    if (!described["loaded"].get<bool>()) continue;
    const auto& stats = described["stats"];
    int64_t cumulative = 0;
    std::map<int, int64_t> sizes;
    for (const auto& [size, n] : stats["batch_sizes"].items()) sizes[std::stoi(size)] = n.get<int64_t>();
    for (int le : {1, 2, 4, 8, 16, 32}) {
      for (auto it = sizes.begin(); it != sizes.end() && it->first <= le;) {
        cumulative += it->second;
        it = sizes.erase(it);
      }
      out << "sightflow_inference_batch_size_bucket{model=\"" << name << "\",le=\"" << le << "\"} "
          << cumulative << "\n";
    }
    out << "sightflow_inference_batch_size_bucket{model=\"" << name << "\",le=\"+Inf\"} "
        << stats["batches"].get<int64_t>() << "\n"
        << "sightflow_inference_batch_size_sum{model=\"" << name << "\"} " << stats["items"].get<int64_t>()
        << "\n"
        << "sightflow_inference_batch_size_count{model=\"" << name << "\"} "
        << stats["batches"].get<int64_t>() << "\n";
  }
  return out.str();
}

void InferenceServer::start() {
  if (!own_server_) return;
  port_ = listen_in_background(*server_, options_.host, options_.port, thread_);
}

void InferenceServer::stop() {
  if (!own_server_ || !thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace sf
