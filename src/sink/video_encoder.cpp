#include "sink/video_encoder.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <utility>

#include "media/ffmpeg_handles.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libswscale/swscale.h>
}

namespace sf {
namespace {

struct FormatDeleter {
  void operator()(AVFormatContext* f) const {
    // The output file is ours to close; avformat_free_context() leaves pb alone.
    if (f->pb && !(f->oformat->flags & AVFMT_NOFILE)) avio_closep(&f->pb);
    avformat_free_context(f);
  }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatDeleter>;
using media::av_error;
using media::CodecContextPtr;
using media::Dict;
using media::FramePtr;
using media::PacketPtr;
using media::SwsPtr;

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error("VideoEncoder: " + what + " '" + path + "': " + av_error(err));
}

// Codec time base for containers that store per-frame timestamps: 1 ms represents any pts a source gives
// closely enough, and mpeg4 (the fallback) rejects denominators above 65535.
constexpr AVRational kFineTimeBase{1, 1000};

}  // namespace

struct VideoEncoder::Impl {
  std::string path;
  int in_w = 0, in_h = 0;    // size asked for; frames are scaled to it
  int out_w = 0, out_h = 0;  // encoded size: rounded up to even
  double fps = 0;
  bool frame_grid = false;  // container without per-frame timestamps (AVI): pts on a 1/fps grid

  FormatPtr fmt;
  CodecContextPtr enc;
  FramePtr frame;
  PacketPtr pkt;
  SwsPtr sws;
  AVStream* stream = nullptr;  // owned by fmt

  int64_t min_step = 1;  // smallest pts increase (codec ticks) that stays distinct in the stream's time base
  bool have_first = false;
  double origin = 0;          // pts_seconds of the first frame: the file starts there
  int64_t last_pts = 0;       // codec ticks
  int64_t last_interval = 1;  // ticks between the last two frames: the duration given to packets
  int64_t frames = 0;
  bool closed = false;
  std::string encoder_name;

  cv::Mat converted, resized, padded;  // scratch buffers, reused between frames

  Impl(const std::string& p, int w, int h, double rate) : path(p), in_w(w), in_h(h), fps(rate) {
    out_w = w + (w & 1);
    out_h = h + (h & 1);

    AVFormatContext* raw = nullptr;
    int r = avformat_alloc_output_context2(&raw, nullptr, nullptr, path.c_str());
    if (r < 0 || !raw)
      fail("no container format matches the extension of", path, r < 0 ? r : AVERROR_MUXER_NOT_FOUND);
    fmt.reset(raw);
    const AVOutputFormat* ofmt = fmt->oformat;
    frame_grid = std::strcmp(ofmt->name, "avi") == 0 || (ofmt->flags & AVFMT_NOTIMESTAMPS);

    open_encoder();

    stream = avformat_new_stream(fmt.get(), nullptr);
    if (!stream) fail("cannot add a video stream to", path, AVERROR(ENOMEM));
    stream->time_base = enc->time_base;
    r = avcodec_parameters_from_context(stream->codecpar, enc.get());
    if (r < 0) fail("cannot copy the codec parameters for", path, r);

    if (!(ofmt->flags & AVFMT_NOFILE)) {
      r = avio_open(&fmt->pb, path.c_str(), AVIO_FLAG_WRITE);
      if (r < 0) fail("cannot create", path, r);
    }
    Dict mux_opts;
    // Fragmented MP4/MOV: an empty index up front, then self-describing fragments (moof + mdat), one per
    // key frame and at least one per second of media, each flushed to the file as it is written. A reader
    // (player, ffprobe) can open the file while the run goes on, up to about a second behind, and a run
    // that is killed leaves every finished fragment playable; a plain MP4 is unreadable until its index is
    // written at the end ("moov atom not found").
    if (std::strcmp(ofmt->name, "mp4") == 0 || std::strcmp(ofmt->name, "mov") == 0) {
      av_dict_set(&mux_opts.d, "movflags", "+frag_keyframe+empty_moov+default_base_moof", 0);
      av_dict_set(&mux_opts.d, "frag_duration", "1000000", 0);  // microseconds
      fmt->flags |= AVFMT_FLAG_FLUSH_PACKETS;
    }
    r = avformat_write_header(fmt.get(), &mux_opts.d);
    if (r < 0) {
      // Leave no empty file behind that looks like a recording.
      if (!(ofmt->flags & AVFMT_NOFILE)) {
        avio_closep(&fmt->pb);
        std::error_code ec;
        std::filesystem::remove(path, ec);
      }
      fail("cannot write the header of", path, r);
    }

    // The muxer may have chosen a coarser time base (Matroska: 1 ms); keep consecutive pts distinct there.
    min_step = std::max<int64_t>(1, av_rescale_q_rnd(1, stream->time_base, enc->time_base, AV_ROUND_UP));
    last_interval = std::max<int64_t>(min_step, std::llround(1.0 / (fps * av_q2d(enc->time_base))));

    frame.reset(av_frame_alloc());
    pkt.reset(av_packet_alloc());
    if (!frame || !pkt) fail("out of memory for", path, AVERROR(ENOMEM));
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = out_w;
    frame->height = out_h;
    r = av_frame_get_buffer(frame.get(), 0);
    if (r < 0) fail("cannot allocate a frame for", path, r);

    // Same size in and out: swscale only converts colour (BT.601, limited range, as tagged on the stream).
    sws.reset(sws_getContext(out_w, out_h, AV_PIX_FMT_BGR24, out_w, out_h, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                             nullptr, nullptr, nullptr));
    if (!sws) fail("cannot set up the colour conversion for", path, AVERROR(EINVAL));
  }

  // libx264 when present and accepted by the container, else mpeg4; the first one that opens wins.
  void open_encoder() {
    const AVCodec* candidates[] = {avcodec_find_encoder_by_name("libx264"),
                                   avcodec_find_encoder(AV_CODEC_ID_MPEG4)};
    std::string reasons;
    int last_err = AVERROR_ENCODER_NOT_FOUND;
    for (const AVCodec* codec : candidates) {
      if (!codec) continue;
      if (avformat_query_codec(fmt->oformat, codec->id, FF_COMPLIANCE_NORMAL) == 0) {
        reasons +=
            std::string(reasons.empty() ? "" : "; ") + codec->name + " not allowed in " + fmt->oformat->name;
        continue;
      }
      CodecContextPtr ctx(avcodec_alloc_context3(codec));
      if (!ctx) fail("out of memory for", path, AVERROR(ENOMEM));
      AVRational rate = av_d2q(fps, 65535);
      ctx->width = out_w;
      ctx->height = out_h;
      ctx->pix_fmt = AV_PIX_FMT_YUV420P;
      ctx->framerate = rate;
      ctx->time_base = frame_grid ? av_inv_q(rate) : kFineTimeBase;
      ctx->gop_size = std::max(1, static_cast<int>(std::lround(2 * fps)));  // a key frame every ~2 s: seeking
      ctx->color_range = AVCOL_RANGE_MPEG;
      ctx->colorspace = AVCOL_SPC_SMPTE170M;
      // AVI stores no pts, so a reader can only time frames in decode order: B-frames would shift them.
      if (frame_grid) ctx->max_b_frames = 0;
      if (fmt->oformat->flags & AVFMT_GLOBALHEADER) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
      Dict opts;
      if (codec->id == AV_CODEC_ID_H264) {
        av_dict_set(&opts.d, "preset", "veryfast", 0);
        av_dict_set(&opts.d, "crf", "23", 0);
      } else {
        ctx->flags |= AV_CODEC_FLAG_QSCALE;  // constant quality, like crf: no bitrate to guess
        ctx->global_quality = FF_QP2LAMBDA * 4;
      }
      int r = avcodec_open2(ctx.get(), codec, &opts.d);
      if (r >= 0) {
        if (codec->id != AV_CODEC_ID_H264)
          spdlog::warn("VideoEncoder: '{}' falls back to mpeg4 ({})", path,
                       reasons.empty() ? "libx264 not in this FFmpeg build" : reasons);
        enc = std::move(ctx);
        encoder_name = codec->name;
        return;
      }
      last_err = r;
      reasons += std::string(reasons.empty() ? "" : "; ") + codec->name + ": " + av_error(r);
    }
    throw std::runtime_error("VideoEncoder: cannot open a video encoder for '" + path +
                             "': " + (reasons.empty() ? av_error(last_err) : reasons));
  }

  // Brings any accepted image to 8-bit BGR at the configured size, then to the even encoded size.
  const cv::Mat& prepare(const cv::Mat& image) {
    if (image.empty()) throw std::invalid_argument("VideoEncoder::write: empty image for '" + path + "'");
    if (image.depth() != CV_8U) throw std::invalid_argument("VideoEncoder::write: image is not 8-bit");
    const cv::Mat* cur = &image;
    switch (image.channels()) {
      case 3:
        break;
      case 1:
        cv::cvtColor(image, converted, cv::COLOR_GRAY2BGR);
        cur = &converted;
        break;
      case 4:
        cv::cvtColor(image, converted, cv::COLOR_BGRA2BGR);
        cur = &converted;
        break;
      default:
        throw std::invalid_argument("VideoEncoder::write: image must have 1, 3 or 4 channels");
    }
    if (cur->cols != in_w || cur->rows != in_h) {
      int interp = (cur->cols > in_w && cur->rows > in_h) ? cv::INTER_AREA : cv::INTER_LINEAR;
      cv::resize(*cur, resized, cv::Size(in_w, in_h), 0, 0, interp);
      cur = &resized;
    }
    if (out_w == in_w && out_h == in_h) return *cur;  // views (ROIs) are fine: swscale takes the row step
    // Odd sizes: replicate the last column/row instead of scaling, so every source pixel stays as it was.
    cv::copyMakeBorder(*cur, padded, 0, out_h - in_h, 0, out_w - in_w, cv::BORDER_REPLICATE);
    return padded;
  }

  void send(const AVFrame* f) {
    int r = avcodec_send_frame(enc.get(), f);
    if (r < 0) fail("encoder rejected a frame for", path, r);
    for (;;) {
      r = avcodec_receive_packet(enc.get(), pkt.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
      if (r < 0) fail("encoding failed for", path, r);
      // Muxers take a sample's duration from the next timestamp; only the last one needs this value.
      if (pkt->duration <= 0) pkt->duration = last_interval;
      av_packet_rescale_ts(pkt.get(), enc->time_base, stream->time_base);
      pkt->stream_index = stream->index;
      r = av_interleaved_write_frame(fmt.get(), pkt.get());
      av_packet_unref(pkt.get());
      if (r < 0) fail("cannot write a packet to", path, r);
    }
  }

  void write(const cv::Mat& image, double pts_seconds) {
    if (closed) throw std::logic_error("VideoEncoder::write after close for '" + path + "'");
    if (!std::isfinite(pts_seconds)) throw std::invalid_argument("VideoEncoder::write: pts is not finite");
    const cv::Mat& bgr = prepare(image);

    if (!have_first) origin = pts_seconds;
    // Clamped so that llround cannot overflow on absurd inputs (about 30 years at 1 ms).
    double ticks_f = std::clamp((pts_seconds - origin) / av_q2d(enc->time_base), -1e12, 1e12);
    int64_t pts = std::llround(ticks_f);
    if (have_first) {
      pts = std::max(pts, last_pts + min_step);
      last_interval = pts - last_pts;
    }

    int r = av_frame_make_writable(frame.get());  // the encoder may still hold the previous buffer
    if (r < 0) fail("cannot get a writable frame for", path, r);
    const uint8_t* src[1] = {bgr.data};
    const int src_stride[1] = {static_cast<int>(bgr.step[0])};
    r = sws_scale(sws.get(), src, src_stride, 0, out_h, frame->data, frame->linesize);
    if (r <= 0) fail("colour conversion failed for", path, r < 0 ? r : AVERROR(EINVAL));
    frame->pts = pts;
    // Before send(): once the encoder has the frame its pts is taken, even if muxing then fails.
    have_first = true;
    last_pts = pts;
    send(frame.get());
    ++frames;
  }

  void close() {
    if (closed) return;
    closed = true;  // first: a failure below must not be retried by the destructor
    send(nullptr);  // drain the encoder's delayed frames
    int r = av_write_trailer(fmt.get());
    if (r < 0) fail("cannot write the trailer of", path, r);
    if (fmt->pb && !(fmt->oformat->flags & AVFMT_NOFILE)) {
      r = avio_closep(&fmt->pb);
      if (r < 0) fail("cannot close", path, r);
    }
    // Encoder buffers (x264 look-ahead) are not needed any more.
    sws.reset();
    frame.reset();
    enc.reset();
  }
};

VideoEncoder::VideoEncoder(const std::string& path, int width, int height, double fps) {
  if (width <= 0 || height <= 0)
    throw std::invalid_argument("VideoEncoder: size must be positive for '" + path + "'");
  if (!(fps > 0) || !std::isfinite(fps))
    throw std::invalid_argument("VideoEncoder: fps must be positive for '" + path + "'");
  impl_ = std::make_unique<Impl>(path, width, height, fps);
}

VideoEncoder::~VideoEncoder() {
  if (!impl_) return;
  try {
    impl_->close();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  } catch (...) {
    spdlog::error("VideoEncoder: unknown error while finishing '{}'", impl_->path);
  }
}

VideoEncoder::VideoEncoder(VideoEncoder&&) noexcept = default;

VideoEncoder& VideoEncoder::operator=(VideoEncoder&& other) noexcept {
  if (this != &other) {
    VideoEncoder old(std::move(*this));  // finishes our current file (its destructor never throws)
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void VideoEncoder::write(const cv::Mat& bgr, double pts_seconds) {
  if (!impl_) throw std::logic_error("VideoEncoder::write on a moved-from encoder");
  impl_->write(bgr, pts_seconds);
}

void VideoEncoder::close() {
  if (impl_) impl_->close();
}

int64_t VideoEncoder::frames_written() const { return impl_ ? impl_->frames : 0; }
int VideoEncoder::width() const { return impl_ ? impl_->out_w : 0; }
int VideoEncoder::height() const { return impl_ ? impl_->out_h : 0; }
std::string VideoEncoder::codec_name() const { return impl_ ? impl_->encoder_name : std::string(); }

}  // namespace sf
