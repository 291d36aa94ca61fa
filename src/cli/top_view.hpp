#pragma once
// `sightflow top`'s screen as text: one row per (stream, algorithm) from the `GET /api/streams` document of
// docs/WEB.md. Pure functions (no I/O), so the layout is testable without a terminal.
#include <nlohmann/json.hpp>
#include <string>

namespace sf::cli {

// The table under `title` and above `footer`. Fields the document lacks show as "-"; a document whose
// shape or types differ from the contract throws std::invalid_argument naming the field, e.g.
// "streams[0].algorithms[1].out_fps: expected a number, got \"fast\"".
std::string render_top(const nlohmann::json& streams_document, const std::string& title,
                       const std::string& footer);

// The same frame with a message in place of the table (server unreachable, unexpected answer).
std::string render_top_problem(const std::string& title, const std::string& message,
                               const std::string& footer);

}  // namespace sf::cli
