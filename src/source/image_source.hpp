#pragma once
// Image sources: one image file, or a folder of images taken in file-name order.
#include <memory>
#include <string>

#include "sightflow/source.hpp"

namespace sf::source_detail {

// `path` is a local path; `kind` is SourceKind::Image or SourceKind::ImageFolder; `options.name` is set.
// Throws SourceError (naming the path) for a missing or unreadable image, or a folder without images.
std::unique_ptr<Source> open_image_source(const std::string& path, SourceKind kind,
                                          const SourceOptions& options);

}  // namespace sf::source_detail
