#pragma once
// Sources turn a URI (file, URL, device, image, folder of images) into a sequence of Frames.
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "sightflow/frame.hpp"

namespace sf {

// Thrown when a source cannot be opened or its data cannot be decoded; what() names the input.
class SourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A SourceOptions value out of its range: key() is its name in a config file (fps, width, timeout, ...),
// member() its name in SourceOptions (target_fps, width, io_timeout_s, ...), what() the problem.
class SourceOptionError : public std::invalid_argument {
 public:
  SourceOptionError(std::string key, std::string member, const std::string& problem)
      : std::invalid_argument(problem), key_(std::move(key)), member_(std::move(member)) {}
  const std::string& key() const { return key_; }
  const std::string& member() const { return member_; }

 private:
  std::string key_, member_;
};

enum class SourceKind { File, Network, Device, Image, ImageFolder };

struct SourceOptions {
  // Largest frame side a source decodes or resizes to: swscale crashes past ~16384, and frames that size
  // held in queues would exhaust memory anyway. 8K UHD (7680x4320) fits.
  static constexpr int kMaxSide = 8192;
  // Retries of the first connection of a live source with stop_at_end and max_reconnects -1: a job that
  // is meant to end must not wait forever for a source that never answers.
  static constexpr int kStopAtEndFirstAttempts = 5;

  std::string name;           // stream name; defaults to the URI's file stem
  double target_fps = 0.0;    // >0: downsample by dropping frames to at most this rate (by pts)
  double start = 0.0;         // seconds: seek position for files
  bool loop = false;          // files and image folders: start again at the end
  int width = 0, height = 0;  // >0: resize output frames (one of them 0 keeps aspect ratio); <= kMaxSide
  // Live sources (network URLs, devices): reconnect on loss/end unless stop_at_end is set.
  bool stop_at_end = false;
  double reconnect_initial_s = 0.5;  // first back-off delay
  double reconnect_max_s = 8.0;      // back-off cap (delay doubles after each failed attempt)
  // Attempts per outage (reset once frames flow again); -1: forever, but with stop_at_end the first
  // connection gets kStopAtEndFirstAttempts retries.
  int max_reconnects = -1;
  double io_timeout_s = 5.0;  // network read/open timeout
  double image_fps = 1.0;     // frame rate assigned to image folders (pts = index / image_fps)
  // FFmpeg decoder threads (0: FFmpeg's choice, cores + 1). One by default: the models already use every
  // core, and one thread decodes SD video at ~1000 fps with less CPU than several; raise it for 4K streams.
  int decode_threads = 1;
};

// Throws SourceOptionError for a value out of range (open_source() checks the same).
void validate(const SourceOptions& options);

// Pure helper, exposed for tests: classify a URI.
SourceKind classify_uri(const std::string& uri);
// Default stream name for a URI (file stem, host, or device name).
std::string default_stream_name(const std::string& uri);

class Source {
 public:
  virtual ~Source() = default;
  // Next frame, or std::nullopt at the end of the stream (file ended, or live source given up).
  // Throws SourceError for unrecoverable errors (corrupt file etc).
  virtual std::optional<Frame> read() = 0;
  // Ask a blocking read() to return soon (called from another thread).
  virtual void interrupt() = 0;
  virtual SourceKind kind() const = 0;
  bool live() const { return kind() == SourceKind::Network || kind() == SourceKind::Device; }
  // Nominal frame rate of the media after downsampling (0 if unknown).
  virtual double fps() const = 0;
  // Number of frames the source will emit, if known (files, folders), else -1.
  virtual int64_t frame_count_hint() const = 0;
  // Frames skipped by target-fps downsampling, and reconnects done, for metrics.
  virtual int64_t frames_skipped() const = 0;
  virtual int64_t reconnects() const = 0;
};

// Opens any supported URI. Throws SourceError naming the URI when it cannot be opened.
std::unique_ptr<Source> open_source(const std::string& uri, const SourceOptions& options);

}  // namespace sf
