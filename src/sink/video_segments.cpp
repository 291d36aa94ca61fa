#include "sink/video_segments.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

namespace sf {

VideoSegments::VideoSegments(std::filesystem::path base, int keep)
    : folder_(base.parent_path()),
      stem_(base.stem().string()),
      extension_(base.extension().string()),
      keep_(std::max(0, keep)) {
  auto segments = existing();
  if (!segments.empty()) next_ = number_of(segments.back()) + 1;
}

int64_t VideoSegments::number_of(const std::filesystem::path& file) const {
  const std::string name = file.filename().string();
  const std::string prefix = stem_ + "-";
  if (name.size() <= prefix.size() + extension_.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - extension_.size(), extension_.size(), extension_) != 0)
    return -1;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - extension_.size());
  if (digits.size() < 3 || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
    return -1;
  return std::stoll(digits);
}

std::vector<std::filesystem::path> VideoSegments::existing() const {
  std::map<int64_t, std::filesystem::path> by_number;
  std::error_code ec;
  const auto folder = folder_.empty() ? std::filesystem::path(".") : folder_;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (auto n = number_of(it->path()); n >= 0) by_number[n] = it->path();
  }
  std::vector<std::filesystem::path> out;
  for (auto& [n, path] : by_number) out.push_back(std::move(path));
  return out;
}

std::filesystem::path VideoSegments::start_next() {
  if (keep_ > 0) {
    auto segments = existing();
    // Room for the new one: keep_ - 1 old segments stay.
    for (size_t i = 0; i + size_t(keep_) <= segments.size(); ++i) {
      std::error_code ec;
      std::filesystem::remove(segments[i], ec);
      if (ec)
        spdlog::warn("video: cannot delete old segment {}: {}", segments[i].string(), ec.message());
      else
        spdlog::debug("video: deleted old segment {}", segments[i].string());
    }
  }
  char number[24];
  std::snprintf(number, sizeof number, "%03lld", static_cast<long long>(next_++));
  return folder_ / (stem_ + "-" + number + extension_);
}

}  // namespace sf
