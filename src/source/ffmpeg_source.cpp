// FFmpeg sources: demux with libavformat, decode with libavcodec, convert to BGR with libswscale.
#include "source/ffmpeg_source.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "media/ffmpeg_handles.hpp"
#include "media/image_probe.hpp"
#include "source/source_util.hpp"

namespace sf::source_detail {
namespace {

// An input is closed (not just freed): avformat_close_input also closes its I/O.
struct FormatCloser {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using media::av_error;
using media::Dict;
using media::FramePtr;
using media::PacketPtr;
using media::SwsPtr;
using CodecPtr = media::CodecContextPtr;

// True for at most kBurst calls per second: a damaged stream makes decoders report every broken macroblock.
bool error_log_budget() {
  constexpr int kBurst = 10;
  static std::mutex mutex;
  static int64_t second = 0;
  static int used = 0;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  std::lock_guard<std::mutex> lock(mutex);
  if (now != second) {
    second = now;
    used = 0;
  }
  return ++used <= kBurst;
}

// FFmpeg's own messages go to spdlog, so that the application's log level and sinks apply to them too.
// Its errors are details (our own messages carry the reason): warnings while few, debug when they flood.
void log_callback(void* avcl, int level, const char* format, va_list args) {
  if (level > av_log_get_level()) return;
  auto lvl = level <= AV_LOG_FATAL     ? spdlog::level::err
             : level <= AV_LOG_ERROR   ? spdlog::level::warn
             : level <= AV_LOG_WARNING ? spdlog::level::info
                                       : spdlog::level::debug;
  if (lvl == spdlog::level::warn && !error_log_budget()) lvl = spdlog::level::debug;
  if (!spdlog::should_log(lvl)) return;
  char line[1024];
  int print_prefix = 1;
  va_list copy;
  va_copy(copy, args);
  av_log_format_line2(avcl, level, format, copy, line, sizeof(line), &print_prefix);
  va_end(copy);
  size_t len = std::strlen(line);
  while (len > 0 && std::isspace(static_cast<unsigned char>(line[len - 1]))) line[--len] = '\0';
  if (len > 0) spdlog::log(lvl, "ffmpeg: {}", line);
}

void init_ffmpeg() {
  static std::once_flag once;
  std::call_once(once, [] {
    avdevice_register_all();
    avformat_network_init();
    av_log_set_callback(log_callback);
  });
}

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string scheme_of(const std::string& url) {
  const auto pos = url.find("://");
  std::string s = pos == std::string::npos ? "" : url.substr(0, pos);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The yuvj* formats are deprecated in swscale: use the plain format and say "full range" instead.
AVPixelFormat plain_format(AVPixelFormat f, bool* full_range) {
  switch (f) {
    case AV_PIX_FMT_YUVJ420P:
      *full_range = true;
      return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
      *full_range = true;
      return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P:
      *full_range = true;
      return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P:
      *full_range = true;
      return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P:
      *full_range = true;
      return AV_PIX_FMT_YUV411P;
    default:
      return f;
  }
}

constexpr int kMaxConsecutiveErrors = 50;
constexpr double kStartTolerance = 1e-6;
constexpr double kAnalyzeSeconds = 5.0;  // FFmpeg's default analyzeduration, added to the open deadline

class FfmpegSource final : public Source {
 public:
  FfmpegSource(const std::string& uri, SourceKind kind, const SourceOptions& options)
      : uri_(uri),
        kind_(kind),
        opts_(options),
        gate_(options.target_fps),
        delay_(options.reconnect_initial_s) {
    init_ffmpeg();
    frame_.reset(av_frame_alloc());
    pkt_.reset(av_packet_alloc());
    if (!frame_ || !pkt_) throw SourceError("cannot open " + uri_ + ": out of memory");
    if (is_live()) return;  // connects in read()

    bool fatal = false;
    const std::string err = open_input(&fatal);
    if (!err.empty()) throw SourceError("cannot open video " + uri_ + ": " + err);
    count_hint_ = estimate_count();
    if (opts_.start > 0 && !seek_to(opts_.start)) {
      spdlog::warn("{}: cannot seek to {} s; decoding from the beginning instead", uri_, opts_.start);
    }
  }

  ~FfmpegSource() override { close_input(); }

  std::optional<Frame> read() override {
    try {
      return next_frame();
    } catch (const SourceError&) {
      // An unrecoverable error ends the source: later reads return nullopt instead of decoding on.
      finished_ = true;
      close_input();
      throw;
    }
  }

  void interrupt() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      interrupted_.store(true);
    }
    wake_.notify_all();
  }

  SourceKind kind() const override { return kind_; }
  double fps() const override { return fps_.load(); }
  int64_t frame_count_hint() const override { return count_hint_; }
  int64_t frames_skipped() const override { return skipped_.load(); }
  int64_t reconnects() const override { return reconnects_.load(); }

 private:
  enum class Step { Frame, End, Lost, Interrupted };

  std::optional<Frame> next_frame() {
    while (!interrupted_.load() && !finished_) {
      if (!fmt_) {
        if (!is_live() || !connect()) {
          finished_ = true;
          break;
        }
      }
      std::string reason;
      switch (decode_step(&reason)) {
        case Step::Interrupted:
          return std::nullopt;
        case Step::Lost:
          if (!is_live()) throw SourceError(uri_ + ": " + reason);
          on_lost(reason);
          continue;
        case Step::End:
          if (is_live()) {
            on_lost(end_reason_);
          } else {
            end_of_file();
          }
          continue;
        case Step::Frame:
          if (auto frame = take_frame()) return frame;
          continue;
      }
    }
    return std::nullopt;
  }

  bool is_live() const { return kind_ == SourceKind::Network || kind_ == SourceKind::Device; }

  // Called by FFmpeg from inside blocking calls; a non-zero return makes them give up.
  static int interrupt_cb(void* opaque) {
    auto* self = static_cast<FfmpegSource*>(opaque);
    if (self->interrupted_.load(std::memory_order_relaxed)) return 1;
    const int64_t deadline = self->deadline_ns_.load(std::memory_order_relaxed);
    if (deadline != 0 && steady_ns() > deadline) {
      self->timed_out_.store(true, std::memory_order_relaxed);
      return 1;
    }
    return 0;
  }

  // Deadlines guard network I/O only: local files never block for long and may be slow to decode.
  // timed_out_ stays set until the next open: a timed-out AVIOContext stays at EOF, and the demuxer may
  // report that only on a later call, after handing out what it had buffered.
  void arm(double seconds) {
    if (is_live()) deadline_ns_.store(steady_ns() + static_cast<int64_t>(seconds * 1e9));
  }
  void disarm() { deadline_ns_.store(0); }

  std::string no_data_reason() const { return fmt::format("no data for {:g} s", opts_.io_timeout_s); }
  std::string describe(int code) const { return timed_out_.load() ? no_data_reason() : av_error(code); }

  // Why the input ended: demuxers report EOF for a socket that timed out or failed, too.
  std::string end_reason(int ret) const {
    if (timed_out_.load()) return no_data_reason();
    const int error = ret != AVERROR_EOF ? ret : (fmt_->pb && fmt_->pb->error < 0 ? fmt_->pb->error : 0);
    // ETIMEDOUT: the protocol's rw_timeout fired; EXIT: our deadline did, on an earlier call.
    if (error == AVERROR(ETIMEDOUT) || error == AVERROR_EXIT) return no_data_reason();
    return error < 0 && error != AVERROR_EOF ? av_error(error) : "end of stream";
  }

  // Opens the input, its best video stream and a decoder. Returns "" on success, else the reason; *fatal is
  // set when trying again cannot help (unknown protocol, no decoder).
  std::string open_input(bool* fatal) {
    *fatal = false;
    timed_out_.store(false);
    const AVInputFormat* input_format = nullptr;
    std::string url = uri_;
    Dict options;
    if (kind_ == SourceKind::File) {
      url = "file:" + uri_;  // a ':' in a file name must not be read as a protocol
    } else if (kind_ == SourceKind::Device) {
      input_format = av_find_input_format("video4linux2");
      if (!input_format) {
        *fatal = true;
        return "this FFmpeg has no video4linux2 input";
      }
    } else {
      const std::string us = std::to_string(static_cast<int64_t>(opts_.io_timeout_s * 1e6));
      options.set("rw_timeout", us);  // generic AVIO read/write timeout (microseconds)
      // Socket timeout in microseconds for these; rtmp's "timeout" means listen mode instead, so leave it.
      const std::string scheme = scheme_of(uri_);
      if (scheme == "rtsp" || scheme == "rtsps" || scheme == "http" || scheme == "https" || scheme == "tcp" ||
          scheme == "udp") {
        options.set("timeout", us);
      }
    }

    AVFormatContext* raw = avformat_alloc_context();
    if (!raw) return "out of memory";
    raw->interrupt_callback.callback = &FfmpegSource::interrupt_cb;
    raw->interrupt_callback.opaque = this;
    arm(opts_.io_timeout_s);
    int ret = avformat_open_input(&raw, url.c_str(), input_format, &options.d);  // frees raw on failure
    disarm();
    if (ret < 0) {
      *fatal = ret == AVERROR_PROTOCOL_NOT_FOUND;
      return describe(ret);
    }
    FormatPtr fmt(raw);

    arm(opts_.io_timeout_s + kAnalyzeSeconds);
    ret = avformat_find_stream_info(fmt.get(), nullptr);
    disarm();
    if (ret < 0) return "cannot read stream info: " + describe(ret);

    const AVCodec* codec = nullptr;
    const int index = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (index == AVERROR_STREAM_NOT_FOUND) return "no video stream";
    if (index < 0 || !codec) {
      const int any = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
      *fatal = true;
      return std::string("no decoder for the video stream (codec ") +
             (any >= 0 ? avcodec_get_name(fmt->streams[any]->codecpar->codec_id) : "unknown") + ")";
    }
    AVStream* stream = fmt->streams[index];
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
      if (static_cast<int>(i) != index) fmt->streams[i]->discard = AVDISCARD_ALL;  // don't demux audio etc.
    }

    CodecPtr dec(avcodec_alloc_context3(codec));
    if (!dec) return "out of memory";
    ret = avcodec_parameters_to_context(dec.get(), stream->codecpar);
    if (ret < 0) return "bad codec parameters: " + av_error(ret);
    dec->pkt_timebase = stream->time_base;
    // A stream may declare any size: one over the pixel limit is refused before a frame is allocated, and
    // the decoder refuses frames that grow past it later.
    if (dec->width > 0 && dec->height > 0) {
      if (auto problem = image_size_problem(dec->width, dec->height)) {
        *fatal = true;
        return "the video is " + *problem;
      }
    }
    dec->max_pixels = max_image_pixels();
    dec->thread_count = std::max(0, opts_.decode_threads);
    // Frame threading adds one frame of latency per thread: fine for files, not for live video.
    if (is_live()) dec->thread_type = FF_THREAD_SLICE;
    ret = avcodec_open2(dec.get(), codec, nullptr);
    if (ret < 0) {
      *fatal = true;
      return std::string("cannot open decoder ") + codec->name + ": " + av_error(ret);
    }

    fmt_ = std::move(fmt);
    dec_ = std::move(dec);
    stream_ = index;
    time_base_ = stream->time_base;
    start_ts_ = stream->start_time;
    AVRational rate = stream->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
    stream_fps_ = (rate.num > 0 && rate.den > 0) ? av_q2d(rate) : 0.0;
    if (stream_fps_ > 1000) stream_fps_ = 0.0;  // a time base posing as a frame rate
    if (stream_fps_ > 0) frame_duration_ = 1.0 / stream_fps_;
    fps_.store(opts_.target_fps > 0 && (stream_fps_ <= 0 || opts_.target_fps < stream_fps_) ? opts_.target_fps
                                                                                            : stream_fps_);
    draining_ = false;
    have_raw_ = false;
    consecutive_errors_ = 0;
    pass_frames_ = 0;
    return "";
  }

  void close_input() {
    // Closing may talk to the peer (RTSP TEARDOWN): bound it.
    arm(std::min(1.0, opts_.io_timeout_s));
    dec_.reset();
    fmt_.reset();
    disarm();
  }

  bool seek_to(double seconds) {
    const int64_t base = start_ts_ != AV_NOPTS_VALUE ? start_ts_ : 0;
    const int64_t ts = base + av_rescale_q(static_cast<int64_t>(std::llround(seconds * AV_TIME_BASE)),
                                           AV_TIME_BASE_Q, time_base_);
    const int ret = av_seek_frame(fmt_.get(), stream_, ts, AVSEEK_FLAG_BACKWARD);
    avcodec_flush_buffers(dec_.get());
    draining_ = false;
    have_raw_ = false;
    return ret >= 0;
  }

  // Counts a packet that could not be read or decoded. Returns false (with *reason) when there were too many
  // in a row: the stream is not decodable, not merely damaged in places.
  bool note_error(const char* what, int code, std::string* reason) {
    ++consecutive_errors_;
    ++errors_;
    last_error_ = std::string(what) + ": " + av_error(code);
    if (errors_ <= 20 || errors_ % 100 == 0) {
      spdlog::warn("{}: {}; packet skipped ({} error(s) so far)", uri_, last_error_, errors_);
    }
    if (consecutive_errors_ > kMaxConsecutiveErrors) {
      *reason = fmt::format("{} consecutive errors, last: {}", consecutive_errors_, last_error_);
      return false;
    }
    return true;
  }

  // Runs demuxer and decoder until a frame is in frame_, the input ended (decoder drained), or it failed.
  Step decode_step(std::string* reason) {
    for (;;) {
      if (interrupted_.load()) return Step::Interrupted;
      int ret = avcodec_receive_frame(dec_.get(), frame_.get());
      if (ret >= 0 && (frame_->width <= 0 || frame_->height <= 0)) {
        av_frame_unref(frame_.get());
        ret = AVERROR_INVALIDDATA;
      }
      if (ret >= 0) {
        consecutive_errors_ = 0;
        return Step::Frame;
      }
      if (ret == AVERROR_EOF) return Step::End;
      if (ret != AVERROR(EAGAIN)) {
        if (!note_error("decode error", ret, reason)) return Step::Lost;
        continue;
      }
      if (draining_) return Step::End;

      arm(opts_.io_timeout_s);
      ret = av_read_frame(fmt_.get(), pkt_.get());
      disarm();
      if (ret == AVERROR(EAGAIN)) {  // non-blocking devices: wait a little, within the I/O timeout
        if (!eagain_since_) eagain_since_ = steady_ns();
        if (steady_ns() - *eagain_since_ > static_cast<int64_t>(opts_.io_timeout_s * 1e9)) {
          eagain_since_.reset();
          *reason = no_data_reason();
          return Step::Lost;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      eagain_since_.reset();
      if (ret < 0) {
        if (interrupted_.load()) return Step::Interrupted;
        const bool eof = ret == AVERROR_EOF || (!timed_out_.load() && fmt_->pb && avio_feof(fmt_->pb));
        if (eof || timed_out_.load()) {
          end_reason_ = end_reason(ret);
          // Flush the decoder so that the frames it still holds are not lost.
          avcodec_send_packet(dec_.get(), nullptr);
          draining_ = true;
          continue;
        }
        // A live connection that fails to read is gone; a file may just have a damaged chunk.
        if (is_live() && ret != AVERROR_INVALIDDATA) {
          *reason = describe(ret);
          return Step::Lost;
        }
        if (!note_error("read error", ret, reason)) return Step::Lost;
        continue;
      }
      if (pkt_->stream_index != stream_) {
        av_packet_unref(pkt_.get());
        continue;
      }
      ++packets_;
      ret = avcodec_send_packet(dec_.get(), pkt_.get());
      av_packet_unref(pkt_.get());
      if (ret < 0 && ret != AVERROR(EAGAIN) && !note_error("decode error", ret, reason)) return Step::Lost;
    }
  }

  // Seconds since the start of the current input, from the decoded frame's timestamp.
  double raw_seconds(const AVFrame* f) {
    int64_t ts = f->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) ts = f->pts;
    if (ts == AV_NOPTS_VALUE) return have_raw_ ? last_raw_ + frame_duration_ : 0.0;
    if (start_ts_ == AV_NOPTS_VALUE) start_ts_ = ts;
    return (static_cast<double>(ts) - static_cast<double>(start_ts_)) * time_base_.num / time_base_.den;
  }

  // Turns the decoded frame into a Frame, or returns nullopt when start or target_fps drop it.
  std::optional<Frame> take_frame() {
    const double raw = raw_seconds(frame_.get());
    if (stream_fps_ <= 0 && have_raw_ && raw > last_raw_)
      frame_duration_ = raw - last_raw_;  // measured instead
    last_raw_ = raw;
    have_raw_ = true;
    ++decoded_;
    ++frames_since_connect_;
    if (!is_live() && raw < opts_.start - kStartTolerance) {
      av_frame_unref(frame_.get());
      return std::nullopt;
    }
    ++pass_frames_;
    const double pts = raw + pts_offset_;
    last_pts_ = pts;
    have_pts_ = true;
    last_frame_ns_ = steady_ns();
    if (!gate_.keep(pts)) {
      skipped_.fetch_add(1);
      av_frame_unref(frame_.get());
      return std::nullopt;
    }
    Frame out;
    out.stream = opts_.name;
    out.seq = seq_++;
    out.pts = pts;
    out.wall_ts = unix_now();
    out.image = convert(frame_.get());
    av_frame_unref(frame_.get());
    return out;
  }

  // A fresh BGR cv::Mat per frame: consumers keep frames, so buffers are never reused.
  cv::Mat convert(const AVFrame* f) {
    bool full_range = f->color_range == AVCOL_RANGE_JPEG;
    const AVPixelFormat format = plain_format(static_cast<AVPixelFormat>(f->format), &full_range);
    const cv::Size size = output_size(uri_, f->width, f->height, opts_.width, opts_.height);
    const SwsKey key{f->width, f->height, format, f->colorspace, full_range, size.width, size.height};
    if (!sws_ || !(key == sws_key_)) {
      sws_.reset(sws_getContext(f->width, f->height, format, size.width, size.height, AV_PIX_FMT_BGR24,
                                SWS_BILINEAR, nullptr, nullptr, nullptr));
      if (!sws_) {
        const char* name = av_get_pix_fmt_name(format);
        throw SourceError(uri_ + ": cannot convert pixel format " + (name ? name : "unknown") + " to BGR");
      }
      // Use the stream's YUV matrix (BT.709 for HD) and range; swscale assumes BT.601 limited otherwise.
      sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(f->colorspace), full_range ? 1 : 0,
                               sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
      sws_key_ = key;
    }
    cv::Mat image(size, CV_8UC3);
    uint8_t* dst[4] = {image.data, nullptr, nullptr, nullptr};
    const int dst_stride[4] = {static_cast<int>(image.step[0]), 0, 0, 0};
    sws_scale(sws_.get(), f->data, f->linesize, 0, f->height, dst, dst_stride);
    return image;
  }

  void end_of_file() {
    if (pass_frames_ == 0) {
      if (decoded_ == 0 && (errors_ > 0 || packets_ > 0)) {
        throw SourceError(fmt::format("{}: no frame could be decoded from {} packet(s){}", uri_, packets_,
                                      last_error_.empty() ? "" : " (" + last_error_ + ")"));
      }
      if (decoded_ > 0 && opts_.start > 0) spdlog::warn("{}: start {} s is past the end", uri_, opts_.start);
      // Nothing to loop over either.
      close_input();
      finished_ = true;
      return;
    }
    if (!opts_.loop) {
      close_input();
      finished_ = true;
      return;
    }
    // The next pass continues the timeline one frame after the last one, so pts stays monotonic.
    pts_offset_ = last_pts_ + frame_duration_ - opts_.start;
    pass_frames_ = 0;
    if (seek_to(opts_.start)) return;
    spdlog::info("{}: cannot seek back; reopening it to loop", uri_);
    close_input();
    bool fatal = false;
    const std::string err = open_input(&fatal);
    if (!err.empty()) throw SourceError("cannot reopen video " + uri_ + ": " + err);
    if (opts_.start > 0) seek_to(opts_.start);
  }

  // Waits up to `seconds`; false when interrupted.
  bool sleep_for(double seconds) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !wake_.wait_for(lock, std::chrono::duration<double>(seconds),
                           [this] { return interrupted_.load(); });
  }

  // Live: a connection was lost. Decides whether and when to reconnect; connect() does it.
  void on_lost(const std::string& reason) {
    close_input();
    if (opts_.stop_at_end || opts_.max_reconnects == 0) {
      spdlog::info("{} ended: {}", uri_, reason);
      finished_ = true;
      return;
    }
    if (frames_since_connect_ > 0) {
      attempts_ = 0;
      delay_ = opts_.reconnect_initial_s;
    } else {
      // It connected but gave nothing: keep backing off, so a peer that accepts and drops is not hammered.
      delay_ = std::min(delay_ * 2, opts_.reconnect_max_s);
      if (opts_.max_reconnects >= 0 && attempts_ >= opts_.max_reconnects) {
        spdlog::error("giving up on {} after {} attempt(s): {}", uri_, attempts_, reason);
        finished_ = true;
        return;
      }
    }
    spdlog::warn("lost {}: {}; reconnecting in {:g} s", uri_, reason, delay_);
  }

  // Live: (re)connects with back-off. Returns false when interrupted or out of attempts; throws when the very
  // first connection cannot be made and retrying is not allowed (or cannot help).
  bool connect() {
    for (;;) {
      if (tried_) {
        if (!sleep_for(delay_)) return false;
        ++attempts_;
      }
      tried_ = true;
      bool fatal = false;
      const std::string err = open_input(&fatal);
      if (err.empty()) {
        if (connected_) {
          reconnects_.fetch_add(1);
          spdlog::info("reconnected to {} after {} attempt(s)", uri_, attempts_);
          // Continue the timeline after the outage, so pts stays monotonic and roughly tracks wall time.
          const double gap = static_cast<double>(steady_ns() - last_frame_ns_) * 1e-9;
          if (have_pts_) pts_offset_ = last_pts_ + std::max(frame_duration_, gap);
        } else if (attempts_ > 0) {
          spdlog::info("connected to {} after {} attempt(s)", uri_, attempts_ + 1);
        }
        connected_ = true;
        frames_since_connect_ = 0;
        return true;
      }
      if (interrupted_.load()) return false;
      // The first connection is retried even with stop_at_end (a camera may still be starting), but not
      // forever: a job meant to end must end when its source never answers.
      int max_attempts = opts_.max_reconnects;
      if (max_attempts < 0 && opts_.stop_at_end && !connected_)
        max_attempts = SourceOptions::kStopAtEndFirstAttempts;
      const bool out_of_attempts = max_attempts >= 0 && attempts_ >= max_attempts;
      if (fatal || out_of_attempts) {
        if (!connected_) throw SourceError("cannot open " + uri_ + ": " + err);
        spdlog::error("giving up on {} after {} attempt(s): {}", uri_, attempts_, err);
        return false;
      }
      if (attempts_ > 0) delay_ = std::min(delay_ * 2, opts_.reconnect_max_s);
      spdlog::warn("cannot connect to {}: {}; retrying in {:g} s", uri_, err, delay_);
    }
  }

  int64_t estimate_count() const {
    if (opts_.loop) return -1;
    const AVStream* stream = fmt_->streams[stream_];
    int64_t n = stream->nb_frames;
    if (n <= 0 && stream_fps_ > 0) {
      double duration = 0;
      if (stream->duration != AV_NOPTS_VALUE) {
        duration = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
      } else if (fmt_->duration != AV_NOPTS_VALUE) {
        duration = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
      }
      if (duration > 0) n = std::llround(duration * stream_fps_);
    }
    if (n <= 0) return -1;
    if (opts_.start > 0) {
      if (stream_fps_ <= 0) return -1;
      n = std::max<int64_t>(0,
                            n - static_cast<int64_t>(std::ceil(opts_.start * stream_fps_ - kStartTolerance)));
    }
    if (opts_.target_fps > 0 && stream_fps_ > opts_.target_fps) {
      n = static_cast<int64_t>(std::ceil(static_cast<double>(n) * opts_.target_fps / stream_fps_ - 1e-9));
    }
    return n;
  }

  struct SwsKey {
    int w = 0, h = 0;
    AVPixelFormat format = AV_PIX_FMT_NONE;
    AVColorSpace colorspace = AVCOL_SPC_UNSPECIFIED;
    bool full_range = false;
    int out_w = 0, out_h = 0;
    bool operator==(const SwsKey&) const = default;
  };

  const std::string uri_;
  const SourceKind kind_;
  const SourceOptions opts_;

  // Touched by interrupt() and the interrupt callback; declared before fmt_ so they outlive it.
  std::atomic<bool> interrupted_{false};
  std::atomic<bool> timed_out_{false};
  std::atomic<int64_t> deadline_ns_{0};
  std::mutex mutex_;
  std::condition_variable wake_;

  FramePtr frame_;
  PacketPtr pkt_;
  SwsPtr sws_;
  SwsKey sws_key_;
  FormatPtr fmt_;
  CodecPtr dec_;
  int stream_ = -1;
  AVRational time_base_{1, 1};
  int64_t start_ts_ = AV_NOPTS_VALUE;
  double stream_fps_ = 0.0;
  double frame_duration_ = 0.0;
  bool draining_ = false;
  bool finished_ = false;
  std::optional<int64_t> eagain_since_;
  std::string end_reason_ = "end of stream";

  // Timeline: pts = seconds since the input's start + offset (grows on loops and reconnects).
  double pts_offset_ = 0.0;
  double last_raw_ = 0.0;
  bool have_raw_ = false;
  double last_pts_ = 0.0;
  bool have_pts_ = false;
  int64_t last_frame_ns_ = 0;
  int64_t seq_ = 0;
  FpsGate gate_;

  int64_t packets_ = 0;      // video packets into the decoder, all inputs
  int64_t decoded_ = 0;      // frames out of the decoder, all inputs
  int64_t pass_frames_ = 0;  // frames at or after start in the current pass over a file
  int consecutive_errors_ = 0;
  int64_t errors_ = 0;
  std::string last_error_;

  // Live connection state.
  bool tried_ = false;      // a connection was attempted before (so the next one waits first)
  bool connected_ = false;  // a connection succeeded at least once
  int attempts_ = 0;        // reconnect attempts in the current outage
  double delay_;
  int64_t frames_since_connect_ = 0;

  std::atomic<double> fps_{0.0};
  int64_t count_hint_ = -1;
  std::atomic<int64_t> skipped_{0};
  std::atomic<int64_t> reconnects_{0};
};

}  // namespace

std::unique_ptr<Source> open_ffmpeg_source(const std::string& uri, SourceKind kind,
                                           const SourceOptions& options) {
  return std::make_unique<FfmpegSource>(uri, kind, options);
}

}  // namespace sf::source_detail
