// A model entry file: one catalog entry that travels with its files (a fine-tuned model's folder).
#include "sightflow/model_entry_file.hpp"

namespace sf {

bool is_model_entry_file(const std::string& detector) {
  return detector.ends_with(".yaml") || detector.ends_with(".yml");
}

CatalogEntry load_model_entry_file(const std::filesystem::path& path) {
  ModelCatalog catalog = ModelCatalog::load(path);
  if (catalog.entries().size() != 1)
    throw CatalogError(path.string() + ": a model entry file holds one model, not " +
                       std::to_string(catalog.entries().size()));
  CatalogEntry entry = catalog.entries().front();
  const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
  for (ModelFile& file : entry.files) file.path = (folder / file.path).lexically_normal().string();
  return entry;
}

}  // namespace sf
