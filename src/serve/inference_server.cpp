#include "serve/inference_server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <limits>

#include "http/guarded_routes.hpp"
#include "http/http_json.hpp"
#include "http/request_body.hpp"
#include "serve/prediction_json.hpp"
#include "serve/request_images.hpp"
#include "sightflow/stage_times.hpp"

namespace sf {

namespace {

// A model, optionally one version of it: /models/{model}[/{version}].
const char* kModelPath = R"(/models/([^/]+)(?:/([^/]+))?)";

template <typename Number>
std::optional<Number> query_as(const httplib::Request& req, const std::string& key) {
  auto value = query_number(req, key);
  if (!value) return std::nullopt;
  if (!(*value >= double(std::numeric_limits<Number>::lowest()) &&
        *value <= double(std::numeric_limits<Number>::max())))
    throw HttpError(400, "BadRequestException", "parameter " + key + " is out of range");
  return Number(*value);
}

std::string param(const httplib::Request& req, const char* key) {
  return req.has_param(key) ? req.get_param_value(key) : "";
}

// Runs a route's body, turning ServiceError and other exceptions into JSON errors.
template <typename Body>
void answer(const httplib::Request& req, httplib::Response& res, Body&& body) {
  try {
    body();
  } catch (const ServiceError& e) {
    send_error(res, e.status, e.type, e.what());
  } catch (const std::exception& e) {
    spdlog::error("serve: {} {} failed: {}", req.method, req.path, e.what());
    send_error(res, 500, "InternalServerException", e.what());
  }
}

}  // namespace

InferenceServer::InferenceServer(InferenceService& service, httplib::Server& server, GuardedRoutes& guarded)
    : service_(service), metrics_(std::make_shared<ServeMetrics>(service)) {
  server.Get("/ping", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"status", "Healthy"}});
  });
  prediction_routes(server);
  management_routes(server, guarded);
}

void InferenceServer::prediction_routes(httplib::Server& server) {
  // Content-reader routes: the body is read here, whatever its content type (see request_body.hpp).
  auto predict = [this](const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& reader) {
    std::string model = req.matches[1];
    Stopwatch took;
    answer(req, res, [&] {
      auto body = read_request_body(req, reader);
      if (!body) return;  // the status is set; the server's error handler writes the JSON
      if (req.matches[2].matched) service_.check_version(model, req.matches[2]);
      auto request = parse_request_images(req.get_header_value("Content-Type"), *body);
      auto task = service_.info(model).task;
      auto outputs = service_.predict(model, request.images);
      if (request.batch) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& output : outputs) list.push_back(prediction_json(output, task));
        send_json(res, list);
      } else {
        send_json(res, prediction_json(outputs.at(0), task));
      }
    });
    metrics_->request_done(model, res.status, took.seconds());
  };
  const char* path = R"(/predictions/([^/]+)(?:/([^/]+))?)";
  server.Post(path, predict);
  server.Put(path, predict);  // curl -T FILE, TorchServe's first example
}

void InferenceServer::management_routes(httplib::Server& server, GuardedRoutes& guarded) {
  server.Get("/models", [this](const httplib::Request& req, httplib::Response& res) {
    answer(req, res, [&] {
      auto names = service_.model_names();
      size_t start = query_as<size_t>(req, "next_page_token").value_or(0);
      size_t limit = query_as<size_t>(req, "limit").value_or(100);
      if (limit == 0) throw ServiceError(400, "BadRequestException", "limit must be at least 1");
      nlohmann::ordered_json body;
      if (start + limit < names.size()) body["nextPageToken"] = std::to_string(start + limit);
      nlohmann::ordered_json models = nlohmann::ordered_json::array();
      for (size_t i = start; i < std::min(names.size(), start + limit); ++i) {
        auto described = service_.describe(names[i])[0];
        models.push_back({{"modelName", names[i]}, {"modelUrl", described["modelUrl"]}});
      }
      body["models"] = models;
      send_json(res, body);
    });
  });

  server.Get(kModelPath, [this](const httplib::Request& req, httplib::Response& res) {
    answer(req, res, [&] {
      std::string model = req.matches[1];
      if (req.matches[2].matched && req.matches[2] != "all") service_.check_version(model, req.matches[2]);
      res.set_content(service_.describe(model).dump(), "application/json");
    });
  });

  // Management routes read (and drop) any body themselves: TorchServe's commands send none, and a bare
  // `curl -X POST` carries no Content-Length.
  server.Post("/models", [this](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
    answer(req, res, [&] {
      if (!read_request_body(req, reader)) return;
      Registration r;
      r.model = model_of_url(param(req, "url"));
      r.name = param(req, "model_name");
      if (r.model.empty()) r.model = r.name;
      if (r.name.empty()) r.name = r.model;
      if (r.model.empty())
        throw ServiceError(400, "BadRequestException",
                           "give url=MODEL (a catalog model) and optionally model_name=NAME to serve it as");
      r.batch_size = query_as<int>(req, "batch_size");
      r.max_batch_delay_ms = query_as<double>(req, "max_batch_delay");
      r.instances = query_as<int>(req, "initial_workers");
      auto settings = service_.register_model(r);
      send_json(res, {{"status", "Model \"" + r.name + "\" Version: " + kModelVersion + " registered with " +
                                     std::to_string(settings.instances) + " initial workers"}});
    });
  });
  guarded.add("POST", "/models");

  server.Put(kModelPath, [this](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
    answer(req, res, [&] {
      if (!read_request_body(req, reader)) return;
      std::string model = req.matches[1];
      if (req.matches[2].matched) service_.check_version(model, req.matches[2]);
      int workers = query_as<int>(req, "min_worker").value_or(1);
      if (auto most = query_as<int>(req, "max_worker"); most && *most < workers)
        throw ServiceError(400, "BadRequestException", "max_worker must not be below min_worker");
      service_.scale(model, workers);
      std::string version = req.matches[2].matched ? ", version: " + std::string(req.matches[2]) : "";
      send_json(res, {{"status",
                       "Workers scaled to " + std::to_string(workers) + " for model: " + model + version}});
    });
  });
  guarded.add("PUT", kModelPath);

  server.Delete(kModelPath, [this](const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
    answer(req, res, [&] {
      if (!read_request_body(req, reader)) return;
      std::string model = req.matches[1];
      if (req.matches[2].matched) service_.check_version(model, req.matches[2]);
      service_.unregister(model);
      send_json(res, {{"status", "Model \"" + model + "\" unregistered"}});
    });
  });
  guarded.add("DELETE", kModelPath);
}

}  // namespace sf
