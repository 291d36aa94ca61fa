#include "web/web_assets.hpp"

#include <array>
#include <string_view>

namespace sf {

namespace {

struct EmbeddedAsset {
  std::string_view path;
  WebAsset asset;
};

// The bytes and `kEmbeddedAssets`, generated from src/web/assets by cmake/embed_assets.cmake.
#include "web_assets_data.inc"

constexpr size_t kAssetCount = std::size(kEmbeddedAssets);

const std::array<std::string_view, kAssetCount> kPaths = [] {
  std::array<std::string_view, kAssetCount> paths;
  for (size_t i = 0; i < kAssetCount; ++i) paths[i] = kEmbeddedAssets[i].path;
  return paths;
}();

}  // namespace

const WebAsset* find_web_asset(std::string_view path) {
  for (const auto& entry : kEmbeddedAssets)
    if (entry.path == path) return &entry.asset;
  return nullptr;
}

std::span<const std::string_view> web_asset_paths() { return kPaths; }

}  // namespace sf
