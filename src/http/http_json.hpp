#pragma once
// JSON answers and errors shared by every HTTP route (inference API, web API): errors are
// {"code", "type", "message"} with the status code, so clients read one shape everywhere.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace httplib {
struct Request;
struct Response;
class Server;
}  // namespace httplib

namespace sf {

// An error a route answers with: status code, type name, message.
struct HttpError : std::runtime_error {
  HttpError(int status, std::string type, const std::string& message)
      : std::runtime_error(message), status(status), type(std::move(type)) {}
  int status;
  std::string type;
};

void send_error(httplib::Response& res, int status, const std::string& type, const std::string& message);
void send_json(httplib::Response& res, const nlohmann::ordered_json& body, int status = 200);
// Statuses the library sets itself (404 no route, 413 body too large, 400 bad request line) get a JSON
// body too; `type_of` names the error type of a status.
void set_json_error_handler(httplib::Server& server, std::function<std::string(int status)> type_of);
// A query parameter as a finite number; nullopt when absent; HttpError 400 naming it when it is not one.
std::optional<double> query_number(const httplib::Request& req, const std::string& key);

}  // namespace sf
