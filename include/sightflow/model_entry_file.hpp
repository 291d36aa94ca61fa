#pragma once
// A model entry file: a catalog with one entry whose file paths are relative to the file's own folder
// (`sightflow tune --finetune` writes one beside the tuned weights). `--detector PATH` runs it like a
// catalog model: a detector name ending in .yaml or .yml is such a file.
#include <filesystem>
#include <string>

#include "sightflow/model_catalog.hpp"

namespace sf {

bool is_model_entry_file(const std::string& detector);
// Throws CatalogError naming the file when it cannot be read or holds other than one entry; the entry's
// file paths come back absolute.
CatalogEntry load_model_entry_file(const std::filesystem::path& path);

}  // namespace sf
