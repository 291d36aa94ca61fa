// Sources: exact frame counts and timestamps from vtest.avi, downsampling, seeking, resizing, looping, image
// folders, clear errors for broken inputs, and live TCP streams that reconnect and can be interrupted.
#include "sightflow/source.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "image_bombs.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::TempDir;

std::vector<Frame> read_all(Source& source, size_t limit = 100000) {
  std::vector<Frame> frames;
  while (frames.size() < limit) {
    auto frame = source.read();
    if (!frame) break;
    frames.push_back(std::move(*frame));
  }
  return frames;
}

// Copies the first `bytes` bytes of `from` to `to`.
void copy_prefix(const std::string& from, const std::filesystem::path& to, size_t bytes) {
  std::string data = test::read_file(from);
  data.resize(std::min(bytes, data.size()));
  std::ofstream(to, std::ios::binary) << data;
}

// A 1 s, 10 fps, 160x120 test pattern clip.
std::filesystem::path make_clip(const TempDir& dir) {
  auto clip = dir / "clip.mp4";
  std::string output;
  const int rc =
      test::run_command({"ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                         "testsrc=size=160x120:rate=10", "-t", "1", "-pix_fmt", "yuv420p", clip.string()},
                        &output, 60);
  EXPECT_EQ(rc, 0) << output;
  return clip;
}

// Waits until `done()` or the timeout; true when done.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// What the default logger writes, collected so that a test can wait for a line instead of sleeping.
class LogLines : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Waits until a line containing `needle` was logged; false after `timeout`.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    std::unique_lock lock(text_mutex_);
    return logged_.wait_for(lock, timeout, [&] { return text_.find(needle) != std::string::npos; });
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::lock_guard lock(text_mutex_);
    text_.append(msg.payload.data(), msg.payload.size()).push_back('\n');
    logged_.notify_all();
  }
  void flush_() override {}

 private:
  std::mutex text_mutex_;
  std::condition_variable logged_;
  std::string text_;
};

// LogLines attached to the default logger while the object lives. Create it before the threads that log
// and let it go after they end: the logger's list of sinks is not guarded.
class LogWatch {
 public:
  LogWatch() { spdlog::default_logger()->sinks().push_back(lines_); }
  ~LogWatch() { std::erase(spdlog::default_logger()->sinks(), lines_); }
  LogWatch(const LogWatch&) = delete;
  LogWatch& operator=(const LogWatch&) = delete;
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    return lines_->wait_for(needle, timeout);
  }

 private:
  std::shared_ptr<LogLines> lines_ = std::make_shared<LogLines>();
};

// Expects `fn` to throw SourceError whose message contains `needle`.
template <typename Fn>
void expect_source_error(Fn fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no SourceError; expected one mentioning " << needle;
  } catch (const SourceError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(SourceUri, ClassifiesUris) {
  TempDir dir;
  EXPECT_EQ(classify_uri("rtsp://cam/stream"), SourceKind::Network);
  EXPECT_EQ(classify_uri("HTTPS://example.com/live.m3u8"), SourceKind::Network);
  EXPECT_EQ(classify_uri("tcp://127.0.0.1:9000"), SourceKind::Network);
  EXPECT_EQ(classify_uri("udp://@:1234"), SourceKind::Network);
  EXPECT_EQ(classify_uri("rtmp://host/app/key"), SourceKind::Network);
  EXPECT_EQ(classify_uri("/dev/video0"), SourceKind::Device);
  EXPECT_EQ(classify_uri(test::vtest_path()), SourceKind::File);
  EXPECT_EQ(classify_uri("file://" + test::vtest_path()), SourceKind::File);
  EXPECT_EQ(classify_uri("clip.mkv"), SourceKind::File);
  EXPECT_EQ(classify_uri("a/b/photo.JPG"), SourceKind::Image);
  EXPECT_EQ(classify_uri("x.webp"), SourceKind::Image);
  EXPECT_EQ(classify_uri(dir.path().string()), SourceKind::ImageFolder);
  EXPECT_EQ(classify_uri("frames/"), SourceKind::ImageFolder);
}

TEST(SourceUri, DefaultStreamNames) {
  EXPECT_EQ(default_stream_name(test::vtest_path()), "vtest");
  EXPECT_EQ(default_stream_name("file:///data/parking.lot.mp4"), "parking.lot");
  EXPECT_EQ(default_stream_name("rtsp://admin:secret@cam1.local:554/h264?x=1"), "cam1.local");
  EXPECT_EQ(default_stream_name("tcp://127.0.0.1:9000"), "127.0.0.1");
  EXPECT_EQ(default_stream_name("http://[::1]:8080/live"), "::1");
  EXPECT_EQ(default_stream_name("/dev/video2"), "video2");
  EXPECT_EQ(default_stream_name("/data/frames/"), "frames");
  EXPECT_EQ(default_stream_name("shot.png"), "shot");
}

TEST(SourceClock, UnixNowIsWallClock) {
  const double now = unix_now();
  EXPECT_NEAR(now, static_cast<double>(std::time(nullptr)), 2.0);
}

TEST(SourceFile, VtestYieldsEveryFrameWithExactTimestamps) {
  auto source = open_source(test::vtest_path(), {});
  EXPECT_EQ(source->kind(), SourceKind::File);
  EXPECT_FALSE(source->live());
  EXPECT_EQ(source->frame_count_hint(), 795);
  EXPECT_DOUBLE_EQ(source->fps(), 10.0);
  const double t0 = unix_now();
  int64_t count = 0;
  cv::Mat previous;
  while (auto frame = source->read()) {
    ASSERT_EQ(frame->seq, count);
    ASSERT_NEAR(frame->pts, count / 10.0, 1e-6);
    ASSERT_EQ(frame->stream, "vtest");
    ASSERT_EQ(frame->image.cols, 768);
    ASSERT_EQ(frame->image.rows, 576);
    ASSERT_EQ(frame->image.type(), CV_8UC3);
    ASSERT_GE(frame->wall_ts, t0 - 1);
    // Frames are kept by consumers: each one must own its pixels.
    ASSERT_NE(frame->image.data, previous.data);
    previous = frame->image;
    ++count;
  }
  EXPECT_EQ(count, 795);
  EXPECT_FALSE(source->read().has_value());  // stays ended
  EXPECT_EQ(source->frames_skipped(), 0);
  EXPECT_EQ(source->reconnects(), 0);
  // Not a blank image: the sample has people walking on a textured floor.
  cv::Scalar mean, stddev;
  cv::meanStdDev(previous, mean, stddev);
  EXPECT_GT(stddev[0], 10.0);
}

TEST(SourceFile, TargetFpsKeepsEveryFourthFrame) {
  SourceOptions options;
  options.target_fps = 2.5;
  options.name = "cam";
  auto source = open_source(test::vtest_path(), options);
  EXPECT_DOUBLE_EQ(source->fps(), 2.5);
  EXPECT_EQ(source->frame_count_hint(), 199);
  auto frames = read_all(*source);
  ASSERT_EQ(frames.size(), 199u);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].seq, static_cast<int64_t>(i));
    EXPECT_NEAR(frames[i].pts, 0.4 * static_cast<double>(i), 1e-6);
    EXPECT_EQ(frames[i].stream, "cam");
  }
  EXPECT_EQ(source->frames_skipped(), 795 - 199);
}

TEST(SourceFile, StartSeeksToTheRequestedTime) {
  SourceOptions options;
  options.start = 10.0;
  auto source = open_source(test::vtest_path(), options);
  EXPECT_EQ(source->frame_count_hint(), 695);
  auto frames = read_all(*source);
  ASSERT_EQ(frames.size(), 695u);
  EXPECT_EQ(frames.front().seq, 0);
  EXPECT_NEAR(frames.front().pts, 10.0, 1e-6);
  EXPECT_NEAR(frames.back().pts, 79.4, 1e-6);
}

TEST(SourceFile, StartPastTheEndYieldsNothing) {
  SourceOptions options;
  options.start = 500.0;
  auto source = open_source(test::vtest_path(), options);
  EXPECT_EQ(source->frame_count_hint(), 0);
  EXPECT_FALSE(source->read().has_value());
}

TEST(SourceFile, ResizeKeepsAspectRatioWhenOneSideIsZero) {
  SourceOptions options;
  options.width = 384;
  auto source = open_source(test::vtest_path(), options);
  auto frame = source->read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->image.cols, 384);
  EXPECT_EQ(frame->image.rows, 288);

  options.width = 0;
  options.height = 144;
  frame = open_source(test::vtest_path(), options)->read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->image.size(), cv::Size(192, 144));

  options.width = 100;
  options.height = 50;
  frame = open_source(test::vtest_path(), options)->read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->image.size(), cv::Size(100, 50));
}

TEST(SourceFile, LoopRestartsWithMonotonicTimestamps) {
  TempDir dir;
  const auto clip = make_clip(dir);
  auto plain = open_source(clip.string(), {});
  EXPECT_EQ(read_all(*plain).size(), 10u);

  SourceOptions options;
  options.loop = true;
  auto source = open_source(clip.string(), options);
  EXPECT_EQ(source->frame_count_hint(), -1);
  auto frames = read_all(*source, 35);
  ASSERT_EQ(frames.size(), 35u);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].seq, static_cast<int64_t>(i));
    EXPECT_NEAR(frames[i].pts, 0.1 * static_cast<double>(i), 1e-6) << "frame " << i;
    EXPECT_EQ(frames[i].image.size(), cv::Size(160, 120));
  }
}

TEST(SourceFile, LoopWithStartAndTargetFps) {
  TempDir dir;
  const auto clip = make_clip(dir);
  SourceOptions options;
  options.loop = true;
  options.start = 0.5;
  options.target_fps = 5;
  auto source = open_source(clip.string(), options);
  auto frames = read_all(*source, 12);
  ASSERT_EQ(frames.size(), 12u);
  // Passes play 0.5..0.9 and continue at 1.0, 1.5 ...: with 5 fps every other frame.
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_NEAR(frames[i].pts, 0.5 + 0.2 * static_cast<double>(i), 1e-6) << "frame " << i;
  }
}

// Colours survive the YUV -> BGR conversion for limited-range (H.264) and full-range (MJPEG, yuvj420p) video.
TEST(SourceFile, ConvertsColoursForBothYuvRanges) {
  TempDir dir;
  for (const auto& [name, codec] : {std::pair{"limited.mp4", "libx264"}, std::pair{"full.avi", "mjpeg"}}) {
    const auto path = dir / name;
    std::string output;
    ASSERT_EQ(
        test::run_command({"ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                           "color=c=0x3366CC:size=64x48:rate=5", "-t", "1", "-c:v", codec, path.string()},
                          &output, 60),
        0)
        << output;
    auto frame = open_source(path.string(), {})->read();
    ASSERT_TRUE(frame) << name;
    const cv::Vec3b pixel = frame->image.at<cv::Vec3b>(24, 32);
    EXPECT_NEAR(pixel[0], 0xCC, 5) << name;  // B
    EXPECT_NEAR(pixel[1], 0x66, 5) << name;  // G
    EXPECT_NEAR(pixel[2], 0x33, 5) << name;  // R
  }
}

TEST(SourceErrors, MissingFileNamesThePath) {
  const std::string path = "/nonexistent/folder/missing.avi";
  expect_source_error([&] { open_source(path, {}); }, path);
  expect_source_error([&] { open_source(path, {}); }, "No such file");
}

TEST(SourceErrors, TextFileNamedAviIsRejected) {
  TempDir dir;
  const auto path = dir / "notes.avi";
  std::ofstream(path) << "This is not a video, just some text.\nLine two.\n";
  expect_source_error([&] { read_all(*open_source(path.string(), {})); }, path.string());
}

TEST(SourceErrors, AudioOnlyFileHasNoVideoStream) {
  TempDir dir;
  const auto path = dir / "tone.mka";
  std::string output;
  ASSERT_EQ(test::run_command({"ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                               "sine=frequency=440:duration=1", path.string()},
                              &output, 60),
            0)
      << output;
  expect_source_error([&] { open_source(path.string(), {}); }, "no video stream");
}

TEST(SourceErrors, TruncatedVideoEndsCleanlyWithTheFramesItHas) {
  TempDir dir;
  const auto path = dir / "truncated.avi";
  copy_prefix(test::vtest_path(), path, 200000);
  // docs/ARCHITECTURE.md: files end cleanly, damaged packets are skipped. So a cut file gives every frame
  // ffprobe decodes from it (6 of 795, the last one partly concealed), in order, and then ends without an
  // error.
  const int decodable = test::ffprobe_frame_count(path);
  ASSERT_GT(decodable, 0);
  ASSERT_LT(decodable, 795);
  std::vector<Frame> frames;
  EXPECT_NO_THROW(frames = read_all(*open_source(path.string(), {})));
  ASSERT_EQ(frames.size(), size_t(decodable));
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].seq, int64_t(i));
    EXPECT_NEAR(frames[i].pts, 0.1 * static_cast<double>(i), 1e-6);
  }
}

TEST(SourceErrors, GarbageInTheMiddleDoesNotStopTheFile) {
  TempDir dir;
  const auto path = dir / "damaged.avi";
  std::string data = test::read_file(test::vtest_path());
  std::mt19937 rng(42);
  for (size_t i = 3000000; i < 3000000 + 200000; ++i) data[i] = static_cast<char>(rng() & 0xff);
  std::ofstream(path, std::ios::binary) << data;
  auto source = open_source(path.string(), {});
  auto frames = read_all(*source);
  // Some frames around the damage may be lost, most must come through, in order.
  EXPECT_GT(frames.size(), 700u);
  EXPECT_LE(frames.size(), 795u);
  for (size_t i = 1; i < frames.size(); ++i) EXPECT_GT(frames[i].pts, frames[i - 1].pts);
}

TEST(SourceErrors, UndecodableStreamThrowsNamingTheFile) {
  // A valid MP4 container whose video data (the mdat box) is random bytes.
  TempDir dir;
  const auto path = make_clip(dir);
  std::string data = test::read_file(path);
  bool scrambled = false;
  std::mt19937 rng(7);
  for (size_t pos = 0; pos + 8 <= data.size();) {
    const auto byte = [&](size_t i) {
      return static_cast<uint64_t>(static_cast<unsigned char>(data[pos + i]));
    };
    uint64_t size = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
    if (size < 8 || pos + size > data.size()) break;  // 64-bit or open-ended boxes: not made by this ffmpeg
    if (data.compare(pos + 4, 4, "mdat") == 0) {
      for (size_t i = pos + 8; i < pos + size; ++i) data[i] = static_cast<char>(rng() & 0xff);
      scrambled = true;
    }
    pos += size;
  }
  ASSERT_TRUE(scrambled);
  std::ofstream(path, std::ios::binary) << data;
  // Either open fails or decoding does; a silent empty stream would hide the damage.
  expect_source_error([&] { read_all(*open_source(path.string(), {})); }, path.string());
}

TEST(SourceErrors, TruncatedJpegNamesThePath) {
  TempDir dir;
  cv::Mat image(240, 320, CV_8UC3, cv::Scalar(10, 200, 30));
  const auto good = dir / "good.jpg";
  ASSERT_TRUE(cv::imwrite(good.string(), image));
  const auto bad = dir / "bad.jpg";
  copy_prefix(good.string(), bad, 120);  // header only: imread rejects it
  expect_source_error([&] { open_source(bad.string(), {}); }, bad.string());
  expect_source_error([&] { open_source((dir / "absent.png").string(), {}); }, "absent.png");
  auto ok = open_source(good.string(), {});
  auto frame = ok->read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->image.size(), cv::Size(320, 240));
  EXPECT_FALSE(ok->read());
}

TEST(SourceErrors, EmptyFolderAndBadOptions) {
  TempDir dir;
  std::ofstream(dir / "readme.txt") << "no images here";
  expect_source_error([&] { open_source(dir.path().string(), {}); }, dir.path().string());
  SourceOptions options;
  options.target_fps = -1;
  expect_source_error([&] { open_source(test::vtest_path(), options); }, "target_fps");
  options = {};
  options.reconnect_initial_s = 0;
  expect_source_error([&] { open_source("tcp://127.0.0.1:1", options); }, "reconnect_initial_s");
  expect_source_error([&] { open_source("", {}); }, "empty");
}

TEST(SourceImages, FolderYieldsImagesInNameOrder) {
  TempDir dir;
  // Written out of order; the source must sort by name.
  const int values[] = {30, 10, 20};
  const char* names[] = {"img_2.png", "img_0.png", "img_1.png"};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cv::imwrite((dir / names[i]).string(), cv::Mat(48, 64, CV_8UC3, cv::Scalar::all(values[i]))));
  }
  std::ofstream(dir / "notes.txt") << "ignored";
  SourceOptions options;
  options.image_fps = 5;
  auto source = open_source(dir.path().string(), options);
  EXPECT_EQ(source->kind(), SourceKind::ImageFolder);
  EXPECT_EQ(source->frame_count_hint(), 3);
  EXPECT_DOUBLE_EQ(source->fps(), 5.0);
  auto frames = read_all(*source);
  ASSERT_EQ(frames.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(frames[i].seq, i);
    EXPECT_NEAR(frames[i].pts, i * 0.2, 1e-9);
    EXPECT_EQ(frames[i].image.at<cv::Vec3b>(0, 0)[0], 10 * (i + 1)) << "frame " << i;
    EXPECT_EQ(frames[i].image.type(), CV_8UC3);
    EXPECT_EQ(frames[i].stream, dir.path().filename().string());
  }
}

TEST(SourceImages, FolderLoopsResizesAndSkipsUnreadableFiles) {
  TempDir dir;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cv::imwrite((dir / ("f" + std::to_string(i) + ".bmp")).string(),
                            cv::Mat(100, 200, CV_8UC3, cv::Scalar::all(i * 50))));
  }
  std::ofstream(dir / "f3.jpg") << "not a jpeg";  // warned about and skipped
  SourceOptions options;
  options.loop = true;
  options.height = 50;
  auto source = open_source(dir.path().string(), options);
  EXPECT_EQ(source->frame_count_hint(), -1);
  auto frames = read_all(*source, 7);
  ASSERT_EQ(frames.size(), 7u);
  const double expected_pts[] = {0, 1, 2, 4, 5, 6, 8};  // f3 keeps its slot on the timeline
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].image.size(), cv::Size(100, 50));
    EXPECT_NEAR(frames[i].pts, expected_pts[i], 1e-9);
    EXPECT_EQ(frames[i].seq, static_cast<int64_t>(i));
  }
}

TEST(SourceImages, ATruncatedJpegInAFolderIsSkippedAsTheApiAndTheBusRejectIt) {
  TempDir dir;
  cv::Mat image(240, 320, CV_8UC3, cv::Scalar(10, 200, 30));
  cv::circle(image, {160, 120}, 80, cv::Scalar(250, 250, 250), cv::FILLED);
  ASSERT_TRUE(cv::imwrite((dir / "a.jpg").string(), image));
  // Two thirds of the file: a whole header, a cut body that libjpeg would fill with grey.
  copy_prefix((dir / "a.jpg").string(), dir / "b.jpg", std::filesystem::file_size(dir / "a.jpg") * 2 / 3);
  auto frames = read_all(*open_source(dir.path().string(), {}));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].pts, 0);
}

TEST(SourceImages, AFolderOfOnlyUnreadableImagesIsAnErrorNotAnEmptyStream) {
  TempDir dir;
  std::ofstream(dir / "a.jpg") << "not a jpeg";
  std::ofstream(dir / "b.png", std::ios::binary) << test::png_declaring(20000, 20000);
  auto source = open_source(dir.path().string(), {});
  expect_source_error([&] { read_all(*source); }, "none of the images in " + dir.path().string());
}

TEST(SourceImages, AnImageOverThePixelLimitIsRefusedByItsHeader) {
  TempDir dir;
  const auto bomb = dir / "bomb.png";
  std::ofstream(bomb, std::ios::binary) << test::png_declaring(20000, 20000);
  expect_source_error([&] { open_source(bomb.string(), {}); },
                      "20000x20000 is over the limit of 40000000 pixels (--max-pixels)");
}

TEST(SourceErrors, AVideoOverThePixelLimitIsRefusedBeforeItsFramesAreDecoded) {
  test::ScopedPixelLimit limit(768 * 576 - 1);
  expect_source_error([&] { read_all(*open_source(test::vtest_path(), {})); },
                      "768x576 is over the limit of 442367 pixels (--max-pixels)");
}

// A TCP listener that accepts connections but never sends a byte.
class SilentPeer {
 public:
  SilentPeer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd_, 8) != 0) {
      throw std::runtime_error("cannot listen");
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentPeer() { ::close(fd_); }
  int port() const { return port_; }
  // Waits until a client has connected (the connection waits in the listen queue: the socket reads as
  // readable); false after `timeout`.
  bool wait_for_connection(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Runs source->read() in a thread; the result is available once done.
struct Reader {
  explicit Reader(Source& source)
      : thread([this, &source] {
          try {
            result = source.read();
          } catch (const SourceError& e) {
            error = e.what();
          }
          done = true;
        }) {}
  ~Reader() {
    if (thread.joinable()) thread.join();
  }
  std::optional<Frame> result;
  std::string error;
  std::atomic<bool> done{false};
  std::thread thread;
};

// The interrupt tests below wait for what the source does (a log line, a connection) rather than
// sleeping, and bound the end of the read well below the wait that interrupt() cuts short (a minute):
// a loaded machine (ctest -j2 on two cores, ASan) may take seconds to wake a thread, never that long.
TEST(SourceLive, InterruptUnblocksReconnectBackoff) {
  SourceOptions options;
  options.reconnect_initial_s = 60;  // a long wait: only interrupt() can end it soon
  options.reconnect_max_s = 60;
  auto source = open_source("tcp://127.0.0.1:" + std::to_string(test::free_tcp_port()), options);
  EXPECT_TRUE(source->live());
  EXPECT_EQ(source->frame_count_hint(), -1);
  LogWatch log;
  Reader reader(*source);
  EXPECT_TRUE(log.wait_for("retrying in 60 s", 60s));  // refused, now in the back-off
  EXPECT_FALSE(reader.done);
  source->interrupt();
  ASSERT_TRUE(wait_until([&] { return reader.done.load(); }, 20s));
  EXPECT_FALSE(reader.result.has_value());
  EXPECT_TRUE(reader.error.empty()) << reader.error;
  EXPECT_FALSE(source->read().has_value());  // interrupt is sticky
}

TEST(SourceLive, InterruptUnblocksASilentPeer) {
  SilentPeer peer;
  SourceOptions options;
  options.io_timeout_s = 60;  // the timeout must not be what ends the read
  auto source = open_source("tcp://127.0.0.1:" + std::to_string(peer.port()), options);
  Reader reader(*source);
  EXPECT_TRUE(peer.wait_for_connection(60s));  // connected, now waiting for bytes that never come
  EXPECT_FALSE(reader.done);
  source->interrupt();
  ASSERT_TRUE(wait_until([&] { return reader.done.load(); }, 20s));
  EXPECT_FALSE(reader.result.has_value());
}

TEST(SourceLive, SilentPeerTimesOutInsteadOfHanging) {
  SilentPeer peer;
  SourceOptions options;
  options.io_timeout_s = 0.5;
  options.max_reconnects = 0;
  const std::string url = "tcp://127.0.0.1:" + std::to_string(peer.port());
  auto source = open_source(url, options);
  const auto t0 = std::chrono::steady_clock::now();
  expect_source_error([&] { source->read(); }, url);
  // io_timeout + analysis slack, not forever; generous for a loaded machine (the peer never answers).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s);
}

TEST(SourceLive, GivesUpAfterMaxReconnects) {
  SourceOptions options;
  options.reconnect_initial_s = 0.05;
  options.reconnect_max_s = 0.1;
  options.max_reconnects = 3;
  const std::string url = "tcp://127.0.0.1:" + std::to_string(test::free_tcp_port());
  auto source = open_source(url, options);
  const auto t0 = std::chrono::steady_clock::now();
  expect_source_error([&] { source->read(); }, "Connection refused");
  // Three back-offs of at most 0.1 s; the bound is generous for a loaded machine, the back-offs' length is
  // not what is tested here.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s);
}

TEST(SourceLive, MissingDeviceFailsWhenRetriesAreOff) {
  const std::string device = "/dev/video-sightflow-missing";
  SourceOptions options;
  options.max_reconnects = 0;
  auto source = open_source(device, options);
  EXPECT_EQ(source->kind(), SourceKind::Device);
  expect_source_error([&] { source->read(); }, device);
  EXPECT_FALSE(source->read().has_value());  // ended for good
}

// True once a socket listens on `port` of IPv4, read from /proc/net/tcp rather than by connecting: ffmpeg's
// "?listen" serves its first connection only.
bool listening(int port) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    const auto colon = local.find(':');
    if (state == "0A" && colon != std::string::npos &&
        std::stoi(local.substr(colon + 1), nullptr, 16) == port)
      return true;
  }
  return false;
}

// ffmpeg serving `file` once as MPEG-TS on tcp://127.0.0.1:port, returned once it listens: a loaded machine
// may take seconds to start it, longer than a source's first connection attempts.
std::unique_ptr<ChildProcess> serve_mpegts(const std::string& file, int port, const std::string& log) {
  auto server = std::make_unique<ChildProcess>(
      std::vector<std::string>{"ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", file, "-f",
                               "mpegts", "tcp://127.0.0.1:" + std::to_string(port) + "?listen"},
      log, log);
  EXPECT_TRUE(wait_until([&] { return listening(port) || !server->running(); }, 120s) && listening(port))
      << "ffmpeg does not listen on port " << port << ": " << test::read_file(log);
  return server;
}

TEST(SourceLive, StopAtEndEndsWithTheStream) {
  TempDir dir;
  const auto clip = make_clip(dir);
  const int port = test::free_tcp_port();
  auto server = serve_mpegts(clip.string(), port, (dir / "ffmpeg.log").string());
  SourceOptions options;
  options.stop_at_end = true;
  options.max_reconnects = 50;  // only for the first connection, while ffmpeg starts listening
  options.reconnect_initial_s = 0.1;
  options.reconnect_max_s = 0.2;
  auto source = open_source("tcp://127.0.0.1:" + std::to_string(port), options);
  std::vector<Frame> frames;
  std::atomic<bool> ended{false};
  std::thread reader([&] {
    try {
      frames = read_all(*source, 1000);
    } catch (const SourceError& e) {
      ADD_FAILURE() << e.what();
    }
    ended = true;
  });
  // The reader must end by itself when the stream does; interrupt() is only a safety net against a hang.
  const bool ended_alone = wait_until([&] { return ended.load(); }, 120s);
  source->interrupt();
  reader.join();
  EXPECT_TRUE(ended_alone);
  EXPECT_GE(frames.size(), 8u);  // mpegts over TCP from the start: all 10, maybe one lost at the edges
  EXPECT_LE(frames.size(), 10u);
  EXPECT_EQ(source->reconnects(), 0);
}

TEST(SourceLive, StalledPeerTimesOutAndGivesUp) {
  TempDir dir;
  const int port = test::free_tcp_port();
  auto server = serve_mpegts(test::vtest_path(), port, (dir / "ffmpeg.log").string());
  SourceOptions options;
  options.io_timeout_s = 1.0;
  options.reconnect_initial_s = 0.1;
  options.reconnect_max_s = 0.2;
  options.max_reconnects = 2;  // the stopped peer accepts no new connections: refused twice, then give up
  auto source = open_source("tcp://127.0.0.1:" + std::to_string(port), options);
  std::atomic<int> frames{0};
  std::atomic<bool> ended{false};
  std::thread reader([&] {
    try {
      while (source->read()) ++frames;
    } catch (const SourceError& e) {
      ADD_FAILURE() << e.what();
    }
    ended = true;
  });
  const bool started = wait_until([&] { return frames.load() >= 25; }, 120s);
  ::kill(server->pid(), SIGSTOP);  // connection stays open, data stops
  // ~1 s timeout + a few frames still buffered + two short back-offs; without the timeout the read would
  // wait forever, so a minute catches that and holds on a loaded machine.
  const bool ended_alone = started && wait_until([&] { return ended.load(); }, 60s);
  source->interrupt();
  reader.join();
  server->kill_hard();
  ASSERT_TRUE(started);
  EXPECT_TRUE(ended_alone);
  EXPECT_EQ(source->reconnects(), 0);
}

TEST(SourceLive, ReconnectsAfterThePeerRestarts) {
  TempDir dir;
  const int port = test::free_tcp_port();
  const std::string log = (dir / "ffmpeg.log").string();
  auto server = serve_mpegts(test::vtest_path(), port, log);
  SourceOptions options;
  options.reconnect_initial_s = 0.2;
  options.reconnect_max_s = 1.0;
  options.io_timeout_s = 5;
  options.name = "live";
  const std::string url = "tcp://127.0.0.1:" + std::to_string(port);
  auto source = open_source(url, options);
  EXPECT_EQ(source->kind(), SourceKind::Network);

  struct Seen {
    int64_t seq;
    double pts;
    cv::Size size;
  };
  std::mutex mutex;
  std::vector<Seen> seen;
  std::string error;
  std::thread reader([&] {
    try {
      while (auto frame = source->read()) {
        std::lock_guard<std::mutex> lock(mutex);
        seen.push_back({frame->seq, frame->pts, frame->image.size()});
        EXPECT_EQ(frame->stream, "live");
      }
    } catch (const SourceError& e) {
      error = e.what();
    }
  });
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return seen.size();
  };
  // Whatever happens below, stop the reader before leaving.
  struct Stopper {
    Source& source;
    std::thread& thread;
    ~Stopper() {
      source.interrupt();
      if (thread.joinable()) thread.join();
    }
  } stopper{*source, reader};

  // Past the ~20 frames buffered while probing the stream, so frames also arrive as the peer sends them.
  ASSERT_TRUE(wait_until([&] { return count() >= 40; }, 120s))
      << "no frames from the first server; " << error;
  EXPECT_EQ(source->reconnects(), 0);
  EXPECT_NEAR(source->fps(), 10.0, 0.01);
  server->kill_hard();
  const size_t before = count();
  server = serve_mpegts(test::vtest_path(), port, log);
  ASSERT_TRUE(wait_until([&] { return source->reconnects() >= 1 && count() >= before + 20; }, 120s))
      << "frames after restart: " << count() - before << "; " << error;
  source->interrupt();
  reader.join();

  EXPECT_TRUE(error.empty()) << error;
  EXPECT_GE(source->reconnects(), 1);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].seq, static_cast<int64_t>(i));
    EXPECT_EQ(seen[i].size, cv::Size(768, 576));
    if (i > 0) {
      EXPECT_GT(seen[i].pts, seen[i - 1].pts) << "frame " << i;
    }
  }
}

}  // namespace
}  // namespace sf
