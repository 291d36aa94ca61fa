#pragma once
// Builds a runnable model from a catalog entry: checks its files (sha256), reads its class list, applies
// per-run parameters (input, score_threshold, nms_threshold, top_k) and picks the backend.
#include <filesystem>
#include <memory>

#include "sightflow/model.hpp"
#include "sightflow/model_catalog.hpp"

namespace sf {

std::unique_ptr<Model> create_catalog_model(const CatalogEntry& entry, const ModelParams& params,
                                            const std::filesystem::path& models_dir);

}  // namespace sf
