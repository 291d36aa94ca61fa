// The model catalog (models.yaml, --catalog FILE): YAML text through ModelCatalog::parse. Errors must come
// out as CatalogError naming file:line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sightflow/model_catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto catalog =
        sf::ModelCatalog::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    for (const auto& name : catalog.names())
      if (!catalog.find(name)) __builtin_trap();  // a listed name that cannot be found
  } catch (const sf::CatalogError&) {
  }
  return 0;
}
