#pragma once
// Writes BGR frames into a video file through FFmpeg's libraries (libavformat + libavcodec + libswscale).
//
// Codec: libx264 (preset veryfast, crf 23, yuv420p) when the build has it and the container accepts it,
// else FFmpeg's mpeg4. The container comes from the file extension. MP4 and MOV are written fragmented (a
// fragment per key frame and at least one per second, flushed as written): they can be read while they
// are written, and a killed run leaves a playable file up to its last fragment.
//
// Timing: frames may come at any spacing (the pipeline writes only the frames it inferred, with their source
// pts). Containers that store timestamps (mp4, mkv, mov ...) get a codec time base of 1 ms and keep each
// frame's own time; constant-rate containers such as AVI get a time base of 1/fps, pts are rounded to that
// grid and gaps are filled by the muxer with repeat (empty) frames, so either way the file plays at the right
// speed. The first frame is shown at time 0 of the file (all pts are taken relative to it). The last frame
// lasts as long as the gap before it (1/fps if there is only one frame). AVI stores no pts, so it gets no
// B-frames, and frames closer together than 1/fps there are pushed to the next slot: give it an fps at least
// the rate frames arrive at. A key frame comes every 2*fps frames (seeking).
//
// Sizes: yuv420p needs an even width and height. An odd size is padded by one replicated row/column (no
// scaling, no lost pixels), so a 321x241 encoder writes a 322x242 stream. Frames whose size differs from the
// one given to the constructor are scaled to it first.
//
// Not thread-safe: one writer thread per encoder.
#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>

namespace sf {

class VideoEncoder {
 public:
  // Opens `path` for writing. `fps` is the nominal rate (time base for constant-rate containers, key frame
  // spacing). Throws std::runtime_error (naming the path and FFmpeg's reason) when the container is unknown,
  // the file cannot be created or no encoder opens; std::invalid_argument for a non-positive size or fps.
  VideoEncoder(const std::string& path, int width, int height, double fps);
  ~VideoEncoder();  // finishes the file if close() was not called; never throws (errors are logged)

  VideoEncoder(const VideoEncoder&) = delete;
  VideoEncoder& operator=(const VideoEncoder&) = delete;
  VideoEncoder(VideoEncoder&&) noexcept;
  VideoEncoder& operator=(VideoEncoder&&) noexcept;

  // Encodes one frame shown at media time `pts_seconds`. A pts not greater than the previous frame's is moved
  // to one tick after it. Accepts 8-bit BGR, BGRA or grey images. Throws std::logic_error after close(),
  // std::invalid_argument for an empty/unsupported image or a non-finite pts, std::runtime_error on FFmpeg
  // errors.
  void write(const cv::Mat& bgr, double pts_seconds);

  // Flushes the encoder and writes the trailer. Idempotent; after a failure the file is left as it is and
  // later calls do nothing.
  void close();

  int64_t frames_written() const;  // frames accepted by write()
  int width() const;               // size of the encoded stream (even)
  int height() const;
  std::string codec_name() const;  // "libx264" or "mpeg4"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
