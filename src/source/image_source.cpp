// Image sources: one file, or a folder of images in name order, read and decoded by media/image_decode
// (header checked against the pixel limit first, JPEG strictly).
#include "source/image_source.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <system_error>
#include <vector>

#include "media/image_decode.hpp"
#include "source/source_util.hpp"

namespace sf::source_detail {
namespace {

namespace fs = std::filesystem;

class ImageSource final : public Source {
 public:
  ImageSource(const std::string& path, SourceKind kind, const SourceOptions& options)
      : path_(path), kind_(kind), opts_(options), gate_(options.target_fps) {
    if (kind_ == SourceKind::Image) {
      std::error_code ec;
      if (!fs::exists(path_, ec)) throw SourceError("cannot open image " + path_ + ": no such file");
      files_.push_back(path_);
      // Decode now so that a corrupt image fails at open time, not on the first read.
      try {
        first_ = read_image_file(path_);
      } catch (const ImageError& e) {
        throw SourceError("cannot read image " + path_ + ": " + e.what());
      }
    } else {
      list_folder();
    }
    first_index_ = static_cast<size_t>(std::ceil(opts_.start * opts_.image_fps - 1e-9));
  }

  std::optional<Frame> read() override {
    const size_t n = files_.size();
    while (!interrupted_.load()) {
      if (pos_ >= n) {
        // A whole pass gave nothing: an error, not an empty stream (and looping again would spin forever).
        if (pass_frames_ == 0 && pass_failures_ > 0)
          throw SourceError("none of the images in " + path_ + " could be read");
        if (!opts_.loop || first_index_ >= n || pass_frames_ == 0) return std::nullopt;
        ++pass_;
        pass_frames_ = pass_failures_ = 0;
        pos_ = 0;
      }
      if (pos_ < first_index_) pos_ = first_index_;
      if (pos_ >= n) continue;
      const size_t index = pos_++;
      // pts keeps increasing across loops: each pass adds the length of the played part.
      const double pts =
          (static_cast<double>(index) + static_cast<double>(pass_) * static_cast<double>(n - first_index_)) /
          opts_.image_fps;
      if (!gate_.keep(pts)) {
        ++skipped_;
        continue;
      }
      cv::Mat image;
      if (!first_.empty()) {
        image = std::move(first_);  // decoded by the constructor
        first_ = cv::Mat();
      } else {
        try {
          image = read_image_file(files_[index]);
        } catch (const ImageError& e) {
          // One bad file in a folder should not end a long run: skip it, loudly.
          ++pass_failures_;
          spdlog::warn("cannot read image {}: {}: skipped", files_[index].string(), e.what());
          continue;
        }
      }
      ++pass_frames_;
      const cv::Size size =
          output_size(files_[index].string(), image.cols, image.rows, opts_.width, opts_.height);
      if (size != image.size()) {
        cv::Mat resized;
        const bool shrink = size.area() < image.size().area();
        cv::resize(image, resized, size, 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
        image = resized;
      }
      Frame frame;
      frame.stream = opts_.name;
      frame.seq = seq_++;
      frame.pts = pts;
      frame.wall_ts = unix_now();
      frame.image = std::move(image);
      return frame;
    }
    return std::nullopt;
  }

  void interrupt() override { interrupted_.store(true); }
  SourceKind kind() const override { return kind_; }
  double fps() const override {
    return opts_.target_fps > 0 ? std::min(opts_.target_fps, opts_.image_fps) : opts_.image_fps;
  }
  int64_t frame_count_hint() const override {
    if (opts_.loop) return -1;
    const auto n = static_cast<int64_t>(files_.size()) - static_cast<int64_t>(first_index_);
    if (n <= 0) return 0;
    if (opts_.target_fps > 0 && opts_.target_fps < opts_.image_fps) {
      return static_cast<int64_t>(
          std::ceil(static_cast<double>(n) * opts_.target_fps / opts_.image_fps - 1e-9));
    }
    return n;
  }
  int64_t frames_skipped() const override { return skipped_.load(); }
  int64_t reconnects() const override { return 0; }

 private:
  void list_folder() {
    std::error_code ec;
    fs::directory_iterator it(path_, ec);
    if (ec) throw SourceError("cannot open image folder " + path_ + ": " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) throw SourceError("cannot list image folder " + path_ + ": " + ec.message());
      std::error_code type_ec;
      if (it->is_regular_file(type_ec) && has_image_extension(it->path())) files_.push_back(it->path());
    }
    if (files_.empty()) {
      throw SourceError("no images (jpg, jpeg, png, bmp, tif, tiff, webp) in folder " + path_);
    }
    std::sort(files_.begin(), files_.end(), [](const fs::path& a, const fs::path& b) {
      return a.filename().string() < b.filename().string();
    });
  }

  const std::string path_;
  const SourceKind kind_;
  const SourceOptions opts_;
  std::vector<fs::path> files_;
  cv::Mat first_;  // single image decoded at open time, handed out by the first read
  size_t first_index_ = 0;
  size_t pos_ = 0;
  int64_t pass_ = 0;
  int64_t pass_frames_ = 0;
  int64_t pass_failures_ = 0;
  int64_t seq_ = 0;
  FpsGate gate_;
  std::atomic<bool> interrupted_{false};
  std::atomic<int64_t> skipped_{0};
};

}  // namespace

std::unique_ptr<Source> open_image_source(const std::string& path, SourceKind kind,
                                          const SourceOptions& options) {
  return std::make_unique<ImageSource>(path, kind, options);
}

}  // namespace sf::source_detail
