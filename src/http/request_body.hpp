#pragma once
// The body of a request served by a cpp-httplib content-reader route. Such routes read the body
// themselves, which fixes two things cpp-httplib 0.11 does with a body it reads on its own: a body sent
// as application/x-www-form-urlencoded (curl's default for --data-binary) is capped at 8 KiB whatever
// the server's limit, and a POST without Content-Length (a bare `curl -X POST`) is read until the
// client gives up. Here a request with neither Content-Length nor chunked Transfer-Encoding has no body
// (RFC 9112 6.3), and the server's payload limit is the only limit (bounded_server.hpp holds it for
// chunked bodies too).
#include <optional>
#include <string>
#include <vector>

namespace httplib {
struct Request;
class ContentReader;
}  // namespace httplib

namespace sf {

struct RequestBody {
  std::string bytes;  // the body, when not multipart
  // multipart/form-data: the contents of the parts, ordered by part name, then by arrival.
  std::vector<std::string> parts;
  bool multipart = false;
};

// nullopt when the body could not be read; the response's status is then set by cpp-httplib (413 over
// the payload limit, 400 malformed; set_json_error_handler makes a chunked body cut off at the limit 413).
std::optional<RequestBody> read_request_body(const httplib::Request& req,
                                             const httplib::ContentReader& reader);

}  // namespace sf
