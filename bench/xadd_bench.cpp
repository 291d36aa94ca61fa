// The raw rate of XADD from one client: the ceiling for the bus (`sightflow capture` -> workers). Decodes a
// video and JPEG-encodes its frames into memory first (as capture does, quality 90), so neither is timed,
// then times one hiredis client adding them to a stream with the fields capture writes, one command per round
// trip. Prints one JSON line; bench/bus_bench.sh runs it against a private redis-server.
//
//   xadd_bench --port P [--host H] [--frames N] [--video FILE] [--quality Q] [--key KEY]
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

#include "media/jpeg_codec.hpp"

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  long frames = 0;  // 0: all
  std::string video = SIGHTFLOW_DEFAULT_VIDEO;
  int quality = 90;
  std::string key = "sf:frames:rawbench";
};

int usage(const char* self) {
  std::fprintf(
      stderr,
      "usage: %s --port P [--host H] [--frames N (0: all)] [--video FILE] [--quality Q] [--key KEY]\n", self);
  return 2;
}

std::string seconds_text(double value) {  // as capture formats pts and ts
  char text[64];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

struct Encoded {
  std::string jpeg;
  double pts;
  int width, height;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    std::string value = argv[++i];
    if (arg == "--host")
      o.host = value;
    else if (arg == "--port")
      o.port = std::stoi(value);
    else if (arg == "--frames")
      o.frames = std::stol(value);
    else if (arg == "--video")
      o.video = value;
    else if (arg == "--quality")
      o.quality = std::stoi(value);
    else if (arg == "--key")
      o.key = value;
    else
      return usage(argv[0]);
  }

  // Encode first: the benchmark measures Redis and the client, not libjpeg-turbo.
  cv::VideoCapture video(o.video);
  if (!video.isOpened()) {
    std::fprintf(stderr, "xadd_bench: cannot open %s\n", o.video.c_str());
    return 1;
  }
  double fps = video.get(cv::CAP_PROP_FPS);
  if (!(fps > 0)) fps = 25;
  std::vector<Encoded> encoded;
  size_t bytes = 0;
  cv::Mat image;
  auto decode_start = std::chrono::steady_clock::now();
  while ((o.frames <= 0 || long(encoded.size()) < o.frames) && video.read(image)) {
    auto jpeg = sf::encode_jpeg(image, o.quality);
    bytes += jpeg.size();
    encoded.push_back(
        {std::string(jpeg.begin(), jpeg.end()), double(encoded.size()) / fps, image.cols, image.rows});
  }
  double encode_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - decode_start).count();
  if (encoded.empty()) {
    std::fprintf(stderr, "xadd_bench: no frames read from %s\n", o.video.c_str());
    return 1;
  }

  std::unique_ptr<redisContext, decltype(&redisFree)> redis(redisConnect(o.host.c_str(), o.port), &redisFree);
  if (!redis || redis->err) {
    std::fprintf(stderr, "xadd_bench: cannot connect to %s:%d: %s\n", o.host.c_str(), o.port,
                 redis ? redis->errstr : "out of memory");
    return 1;
  }

  auto t0 = std::chrono::steady_clock::now();
  for (size_t seq = 0; seq < encoded.size(); ++seq) {
    const auto& e = encoded[seq];
    double ts = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string args[] = {"XADD",   o.key,
                                "MAXLEN", "~",
                                "10000",  "*",
                                "seq",    std::to_string(seq),
                                "pts",    seconds_text(e.pts),
                                "ts",     seconds_text(ts),
                                "width",  std::to_string(e.width),
                                "height", std::to_string(e.height),
                                "enc",    "jpeg",
                                "data",   e.jpeg};
    constexpr size_t n = sizeof args / sizeof args[0];
    const char* argv_c[n];
    size_t lens[n];
    for (size_t i = 0; i < n; ++i) {
      argv_c[i] = args[i].data();
      lens[i] = args[i].size();
    }
    auto* reply = static_cast<redisReply*>(redisCommandArgv(redis.get(), int(n), argv_c, lens));
    if (!reply) {
      std::fprintf(stderr, "xadd_bench: XADD: %s\n", redis->errstr);
      return 1;
    }
    bool failed = reply->type == REDIS_REPLY_ERROR;
    if (failed) std::fprintf(stderr, "xadd_bench: XADD: %.*s\n", int(reply->len), reply->str);
    freeReplyObject(reply);
    if (failed) return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // decode_encode_fps: what decoding and encoding alone allow one thread (capture does both per frame).
  std::printf(
      "{\"frames\":%zu,\"bytes\":%zu,\"seconds\":%.4f,\"fps\":%.1f,\"mb_per_s\":%.1f,"
      "\"decode_encode_fps\":%.1f}\n",
      encoded.size(), bytes, seconds, double(encoded.size()) / seconds, double(bytes) / 1e6 / seconds,
      double(encoded.size()) / encode_seconds);
  return 0;
}
