#pragma once
// The dashboard's files (src/web/assets), embedded into the binary at build time by
// cmake/embed_assets.cmake, so that a built `sightflow` serves its dashboard from any folder.
#include <span>
#include <string_view>

namespace sf {

struct WebAsset {
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;
};

// The asset served at `path`: "/" is index.html, "/assets/NAME" is src/web/assets/NAME; nullptr otherwise.
const WebAsset* find_web_asset(std::string_view path);

// The URL paths of every asset, "/" included.
std::span<const std::string_view> web_asset_paths();

}  // namespace sf
