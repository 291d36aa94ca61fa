// `sightflow models`: the built-in detectors and the catalog, with each model file's state.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "sightflow/model_catalog.hpp"

namespace sf::cli {
namespace {

struct ModelsFlags {
  bool json = false;
  bool check = false;
};

std::string state_text(FileState s) {
  switch (s) {
    case FileState::Ok:
      return "ok";
    case FileState::Missing:
      return "missing";
    case FileState::Mismatch:
      return "damaged (sha256 differs)";
    case FileState::Unchecked:
      return "present (no sha256 recorded)";
  }
  return "?";
}

int list_models(const ModelsFlags& f) {
  auto where = model_locations();
  auto catalog = ModelCatalog::load(where.catalog);
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const auto& name : builtin_model_names())
    all.push_back({{"name", name},
                   {"task", "detection"},
                   {"source", "built in"},
                   {"input", nullptr},
                   {"max_batch", 1},
                   {"files_ok", true},
                   {"problems", nlohmann::json::array()}});
  bool all_ok = true;
  for (const auto& e : catalog.entries()) {
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    for (const auto& file : e.files) {
      auto check = check_file(where.models_dir, file);
      if (check.state == FileState::Ok || check.state == FileState::Unchecked) continue;
      problems.push_back({{"file", file.path}, {"state", state_text(check.state)}, {"source", file.source}});
    }
    all_ok = all_ok && problems.empty();
    all.push_back({{"name", e.name},
                   {"task", e.task},
                   {"source", "catalog"},
                   {"input", std::to_string(e.preprocess.input.width) + "x" +
                                 std::to_string(e.preprocess.input.height)},
                   {"max_batch", e.max_batch},
                   {"files_ok", problems.empty()},
                   {"problems", problems}});
  }
  if (f.json) {
    std::cout << nlohmann::ordered_json{{"catalog", where.catalog.string()},
                                        {"models_dir", where.models_dir.string()},
                                        {"models", all}}
                     .dump()
              << std::endl;
  } else {
    std::printf("catalog %s\nmodels  %s\n\n", where.catalog.c_str(), where.models_dir.c_str());
    std::printf("%-20s %-15s %-8s %-6s %s\n", "NAME", "TASK", "INPUT", "BATCH", "FILES");
    for (const auto& m : all) {
      std::string input = m["input"].is_null() ? "any" : m["input"].get<std::string>();
      std::string files = m["source"] == "built in" ? "built in" : m["files_ok"].get<bool>() ? "ok" : "";
      std::printf("%-20s %-15s %-8s %-6d %s\n", m["name"].get<std::string>().c_str(),
                  m["task"].get<std::string>().c_str(), input.c_str(), m["max_batch"].get<int>(),
                  files.c_str());
      for (const auto& p : m["problems"])
        std::printf("  %s: %s (from %s)\n", p["file"].get<std::string>().c_str(),
                    p["state"].get<std::string>().c_str(), p["source"].get<std::string>().c_str());
    }
  }
  return f.check && !all_ok ? 3 : 0;
}

}  // namespace

Command add_models_command(CLI::App& app) {
  auto flags = std::make_shared<ModelsFlags>();
  auto* cmd =
      app.add_subcommand("models", "List the built-in detectors and the model catalog, checking files");
  cmd->add_flag("--json", flags->json, "print one JSON object");
  cmd->add_flag("--check", flags->check, "exit with status 3 when a catalog file is missing or damaged");
  return [flags] { return list_models(*flags); };
}

}  // namespace sf::cli
