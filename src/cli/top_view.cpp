#include "cli/top_view.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace sf::cli {
namespace {

using nlohmann::json;

[[noreturn]] void mismatch(const std::string& field, const std::string& expected, const json& got) {
  throw std::invalid_argument(field + ": expected " + expected + ", got " + got.dump());
}

const json& member(const json& object, const std::string& key) {
  static const json absent;
  auto it = object.find(key);
  return it == object.end() ? absent : *it;
}

std::string text(const json& object, const std::string& key, const std::string& field, bool required) {
  const auto& value = member(object, key);
  if (value.is_null()) {
    if (required) mismatch(field + "." + key, "text", value);
    return "-";
  }
  if (!value.is_string()) mismatch(field + "." + key, "text", value);
  return value.get<std::string>();
}

// A number with `decimals` places, "-" when absent.
std::string number(const json& object, const std::string& key, const std::string& field, int decimals) {
  const auto& value = member(object, key);
  if (value.is_null()) return "-";
  if (!value.is_number()) mismatch(field + "." + key, "a number", value);
  if (decimals == 0) return std::to_string(value.get<int64_t>());
  return fmt::format("{:.{}f}", value.get<double>(), decimals);
}

const json& array(const json& object, const std::string& key, const std::string& field) {
  const auto& value = member(object, key);
  if (!value.is_array()) mismatch(field.empty() ? key : field + "." + key, "a list", value);
  return value;
}

void require_object(const json& value, const std::string& field) {
  if (!value.is_object()) mismatch(field, "an object", value);
}

const std::vector<std::string> kColumns = {"STREAM", "STATE", "IN FPS",  "OUT FPS", "ALGO",
                                           "COUNT",  "RUNS",  "DROPPED", "QUEUE",   "READ",
                                           "RESIZE", "MODEL", "POST",    "SINK",    "TOTAL"};
const size_t kFirstNumberColumn = 2;  // STREAM and STATE are left-aligned, the rest right-aligned
const size_t kAlgoColumn = 4;

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(kColumns.size());
  for (size_t c = 0; c < kColumns.size(); ++c) widths[c] = kColumns[c].size();
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      bool left = c < kFirstNumberColumn || c == kAlgoColumn;
      out += left ? fmt::format("{:<{}}", cells[c], widths[c]) : fmt::format("{:>{}}", cells[c], widths[c]);
      if (c + 1 < cells.size()) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(kColumns);
  for (const auto& row : rows) out += line(row);
  return out;
}

}  // namespace

std::string render_top(const json& document, const std::string& title, const std::string& footer) {
  require_object(document, "the answer");
  const auto& streams = array(document, "streams", "");
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> problems;
  size_t algorithm_count = 0;
  for (size_t i = 0; i < streams.size(); ++i) {
    const auto field = "streams[" + std::to_string(i) + "]";
    const auto& stream = streams[i];
    require_object(stream, field);
    std::vector<std::string> cells = {text(stream, "name", field, true), text(stream, "state", field, true),
                                      number(stream, "in_fps", field, 1)};
    auto read_ms = number(stream, "read_ms", field, 1);
    if (auto error = text(stream, "error", field, false); error != "-" && !error.empty())
      problems.push_back(cells[0] + ": " + cells[1] + ": " + error);
    const auto& algorithms = array(stream, "algorithms", field);
    algorithm_count += algorithms.size();
    if (algorithms.empty()) {  // the stream still gets its row
      auto row = cells;
      row.insert(row.end(), {"-", "-", "-", "-", "-", "-", read_ms, "-", "-", "-", "-", "-"});
      rows.push_back(row);
    }
    for (size_t j = 0; j < algorithms.size(); ++j) {
      const auto algo_field = field + ".algorithms[" + std::to_string(j) + "]";
      const auto& algo = algorithms[j];
      require_object(algo, algo_field);
      auto row = cells;
      auto depth = number(algo, "queue_depth", algo_field, 0);
      auto capacity = number(algo, "queue_capacity", algo_field, 0);
      row.insert(row.end(), {number(algo, "out_fps", algo_field, 1), text(algo, "name", algo_field, true),
                             number(algo, "count", algo_field, 0), number(algo, "runs", algo_field, 0),
                             number(algo, "runs_dropped", algo_field, 0), depth + "/" + capacity, read_ms});
      const auto& latency = member(algo, "latency_ms");
      const auto latency_field = algo_field + ".latency_ms";
      if (!latency.is_null()) require_object(latency, latency_field);
      for (const char* stage : {"resize", "model", "post", "sink", "total"})
        row.push_back(latency.is_null() ? "-" : number(latency, stage, latency_field, 1));
      rows.push_back(row);
    }
  }
  std::string out = title + "\n";
  out += fmt::format("{} stream{}, {} algorithm{}; latencies in ms (recent averages)\n\n", streams.size(),
                     streams.size() == 1 ? "" : "s", algorithm_count, algorithm_count == 1 ? "" : "s");
  out += format_table(rows);
  if (!problems.empty()) out += "\n";
  for (const auto& p : problems) out += p + "\n";
  return footer.empty() ? out : out + "\n" + footer + "\n";
}

std::string render_top_problem(const std::string& title, const std::string& message,
                               const std::string& footer) {
  auto out = title + "\n\n" + message + "\n";
  return footer.empty() ? out : out + "\n" + footer + "\n";
}

}  // namespace sf::cli
