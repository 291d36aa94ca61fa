// URI classification and default stream names.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "common/url.hpp"
#include "sightflow/source.hpp"
#include "source/source_util.hpp"

namespace sf {
using source_detail::lower;
using source_detail::scheme_of;

namespace {

std::string strip_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

namespace source_detail {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string scheme_of(const std::string& uri) {
  const auto pos = uri.find("://");
  if (pos == std::string::npos || pos == 0) return "";
  for (size_t i = 0; i < pos; ++i) {
    const unsigned char c = uri[i];
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return "";
  }
  return lower(uri.substr(0, pos));
}

std::string local_path(const std::string& uri) {
  return scheme_of(uri) == "file" ? uri.substr(std::string("file://").size()) : uri;
}

bool has_image_extension(const std::filesystem::path& path) {
  const std::string ext = lower(path.extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".tif" ||
         ext == ".tiff" || ext == ".webp";
}

}  // namespace source_detail

SourceKind classify_uri(const std::string& uri) {
  const std::string scheme = scheme_of(uri);
  // Any scheme other than file:// goes to FFmpeg's protocols (rtsp, http(s), tcp, udp, rtmp, srt ...).
  if (!scheme.empty() && scheme != "file") return SourceKind::Network;
  const std::string path = source_detail::local_path(uri);
  if (path.rfind("/dev/", 0) == 0) return SourceKind::Device;
  std::error_code ec;
  if ((!path.empty() && path.back() == '/') || std::filesystem::is_directory(path, ec)) {
    return SourceKind::ImageFolder;
  }
  if (source_detail::has_image_extension(path)) return SourceKind::Image;
  return SourceKind::File;
}

std::string default_stream_name(const std::string& uri) {
  std::string name;
  switch (classify_uri(uri)) {
    case SourceKind::Network: {
      try {
        name = parse_url(uri).host;
      } catch (const std::invalid_argument&) {
        name.clear();  // FFmpeg may still read what libcurl does not; the name is only a default
      }
      if (name.empty()) name = scheme_of(uri);
      break;
    }
    case SourceKind::Device:
    case SourceKind::ImageFolder:
      name =
          std::filesystem::path(strip_trailing_slashes(source_detail::local_path(uri))).filename().string();
      break;
    case SourceKind::File:
    case SourceKind::Image:
      name = std::filesystem::path(source_detail::local_path(uri)).stem().string();
      break;
  }
  return name.empty() ? "stream" : name;
}

}  // namespace sf
