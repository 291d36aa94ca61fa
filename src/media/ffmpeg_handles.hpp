#pragma once
// Owning handles for the FFmpeg objects that decoding (source/) and encoding (sink/) both use, and
// FFmpeg's error codes as text. Format contexts differ (inputs are closed, outputs freed) and stay local.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace sf::media {

struct CodecContextFree {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct FrameFree {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFree {
  void operator()(SwsContext* p) const { sws_freeContext(p); }
};

using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextFree>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFree>;

// AVDictionary is handled through a pointer-to-pointer API, so a holder fits better than unique_ptr.
struct Dict {
  AVDictionary* d = nullptr;
  Dict() = default;
  Dict(const Dict&) = delete;
  Dict& operator=(const Dict&) = delete;
  ~Dict() { av_dict_free(&d); }
  void set(const char* key, const std::string& value) { av_dict_set(&d, key, value.c_str(), 0); }
};

inline std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(code, buf, sizeof(buf)) < 0) return "error " + std::to_string(code);
  return buf;
}

}  // namespace sf::media
