// VideoEncoder writes files that ffprobe/ffmpeg read back with the right frames, size, codec and timing;
// draw_annotations touches the box and leaves the rest of the image alone.
#include "sink/video_encoder.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "draw/annotate.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

using nlohmann::json;

// A frame that changes with i, so the encoder has motion to code.
cv::Mat synthetic(int w, int h, int i) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b((x + i * 4) & 255, (y * 2) & 255, (x + y) & 255);
  cv::circle(m, cv::Point((i * 9) % w, h / 2), 20, cv::Scalar(255, 255, 255), cv::FILLED);
  return m;
}

// Runs ffprobe on `file` for `entries` (e.g. "stream=width") and returns the parsed JSON.
json probe(const std::filesystem::path& file, const std::string& entries, bool count_frames = true) {
  std::vector<std::string> argv = {"ffprobe", "-v", "error"};
  if (count_frames) argv.push_back("-count_frames");
  for (const char* a : {"-select_streams", "v:0", "-show_entries"}) argv.push_back(a);
  argv.push_back(entries);
  for (const char* a : {"-of", "json"}) argv.push_back(a);
  argv.push_back(file.string());
  std::string out;
  int rc = test::run_command(argv, &out, 60);
  EXPECT_EQ(rc, 0) << out;
  auto brace = out.find('{');
  if (brace == std::string::npos) {
    ADD_FAILURE() << "ffprobe printed no JSON: " << out;
    return json::object();
  }
  return json::parse(out.substr(brace));
}

json stream_info(const std::filesystem::path& file) {
  json j = probe(file, "stream=nb_read_frames,width,height,codec_name");
  if (!j.contains("streams") || j["streams"].empty()) {
    ADD_FAILURE() << "no video stream in " << file << ": " << j.dump();
    return json::object();
  }
  return j["streams"][0];
}

double duration_of(const std::filesystem::path& file) {
  json j = probe(file, "format=duration", false);
  return std::stod(j["format"]["duration"].get<std::string>());
}

int frames_of(const json& stream) { return std::stoi(stream.value("nb_read_frames", std::string("-1"))); }

// Decodes the whole file; true when ffmpeg exits cleanly and reports no errors.
bool decodes_cleanly(const std::filesystem::path& file, std::string* log) {
  int rc = test::run_command({"ffmpeg", "-v", "error", "-i", file.string(), "-f", "null", "-"}, log, 60);
  return rc == 0 && log->empty();
}

TEST(VideoEncoder, Mp4HasAllFramesSizeAndCodec) {
  test::TempDir dir;
  auto file = dir / "out.mp4";
  {
    VideoEncoder enc(file.string(), 320, 240, 10);
    EXPECT_EQ(enc.codec_name(), "libx264");
    for (int i = 0; i < 30; ++i) enc.write(synthetic(320, 240, i), i / 10.0);
    enc.close();
    EXPECT_EQ(enc.frames_written(), 30);
  }
  json s = stream_info(file);
  EXPECT_EQ(frames_of(s), 30);
  EXPECT_EQ(s["width"], 320);
  EXPECT_EQ(s["height"], 240);
  EXPECT_EQ(s["codec_name"], "h264");
  EXPECT_NEAR(duration_of(file), 3.0, 0.15);
}

// The pipeline writes only inferred frames with their source pts: the file must keep real time.
TEST(VideoEncoder, SparseTimestampsKeepTheDuration) {
  test::TempDir dir;
  for (const char* name : {"sparse.mp4", "sparse.mkv", "sparse.avi"}) {
    SCOPED_TRACE(name);
    auto file = dir / name;
    {
      VideoEncoder enc(file.string(), 320, 240, 10);
      for (int i = 0; i < 10; ++i) enc.write(synthetic(320, 240, i), i * 0.4);
    }
    double d = duration_of(file);
    EXPECT_GE(d, 3.6);
    EXPECT_LE(d, 4.4);
    std::string log;
    EXPECT_TRUE(decodes_cleanly(file, &log)) << log;
  }
  // Timestamped containers store exactly the frames given (no duplicates).
  EXPECT_EQ(frames_of(stream_info(dir / "sparse.mp4")), 10);
}

// Sources rarely start at 0 (seek, live stream): the file starts at its first frame.
TEST(VideoEncoder, FirstFrameStartsTheFile) {
  test::TempDir dir;
  auto file = dir / "late.mp4";
  {
    VideoEncoder enc(file.string(), 320, 240, 10);
    for (int i = 0; i < 20; ++i) enc.write(synthetic(320, 240, i), 3600.0 + i / 10.0);
  }
  EXPECT_NEAR(duration_of(file), 2.0, 0.15);
}

TEST(VideoEncoder, OddSizeIsPaddedToEven) {
  test::TempDir dir;
  auto file = dir / "odd.mp4";
  {
    VideoEncoder enc(file.string(), 321, 241, 10);
    EXPECT_EQ(enc.width(), 322);
    EXPECT_EQ(enc.height(), 242);
    for (int i = 0; i < 12; ++i) enc.write(synthetic(321, 241, i), i / 10.0);
    enc.close();
  }
  json s = stream_info(file);
  EXPECT_EQ(frames_of(s), 12);
  EXPECT_EQ(s["width"], 322);
  EXPECT_EQ(s["height"], 242);
  std::string log;
  EXPECT_TRUE(decodes_cleanly(file, &log)) << log;
}

TEST(VideoEncoder, AviWorks) {
  test::TempDir dir;
  auto file = dir / "out.avi";
  {
    VideoEncoder enc(file.string(), 320, 240, 10);
    for (int i = 0; i < 20; ++i) enc.write(synthetic(320, 240, i), i / 10.0);
    enc.close();
  }
  json s = stream_info(file);
  EXPECT_EQ(frames_of(s), 20);
  EXPECT_EQ(s["width"], 320);
  EXPECT_EQ(s["codec_name"], "h264");
  EXPECT_NEAR(duration_of(file), 2.0, 0.15);
  std::string log;
  EXPECT_TRUE(decodes_cleanly(file, &log)) << log;
}

TEST(VideoEncoder, FramesOfAnotherSizeAreScaled) {
  test::TempDir dir;
  auto file = dir / "scaled.mkv";
  {
    VideoEncoder enc(file.string(), 320, 240, 10);
    enc.write(synthetic(640, 480, 0), 0.0);
    enc.write(synthetic(160, 120, 1), 0.1);
    cv::Mat grey(240, 320, CV_8UC1, cv::Scalar(128));
    enc.write(grey, 0.2);
    cv::Mat big = synthetic(400, 300, 3);
    enc.write(big(cv::Rect(1, 1, 320, 240)), 0.3);  // a non-contiguous view with odd alignment
  }
  json s = stream_info(file);
  EXPECT_EQ(frames_of(s), 4);
  EXPECT_EQ(s["width"], 320);
  EXPECT_EQ(s["height"], 240);
}

TEST(VideoEncoder, NonIncreasingPtsAreShiftedNotDropped) {
  test::TempDir dir;
  for (const char* name : {"same.mp4", "same.mkv", "same.avi"}) {
    SCOPED_TRACE(name);
    auto file = dir / name;
    {
      VideoEncoder enc(file.string(), 320, 240, 10);
      const double pts[] = {0.0, 0.0, 0.0, 0.05, 1.0, 0.5};
      for (int i = 0; i < 6; ++i) enc.write(synthetic(320, 240, i), pts[i]);
      EXPECT_EQ(enc.frames_written(), 6);
    }
    // ffprobe decodes every frame (ffmpeg -f null would complain about frames 1 ms apart, a CLI quirk).
    EXPECT_EQ(frames_of(stream_info(file)), 6);
  }
}

// BGR in, BGR out: a red frame must come back red (a swapped channel order would make it blue).
TEST(VideoEncoder, ColoursSurviveTheRoundTrip) {
  test::TempDir dir;
  auto file = dir / "red.mp4";
  {
    VideoEncoder enc(file.string(), 320, 240, 10);
    cv::Mat red(240, 320, CV_8UC3, cv::Scalar(0, 0, 255));
    for (int i = 0; i < 5; ++i) enc.write(red, i / 10.0);
  }
  auto png = dir / "frame.png";
  std::string log;
  ASSERT_EQ(
      test::run_command({"ffmpeg", "-v", "error", "-i", file.string(), "-frames:v", "1", png.string()}, &log),
      0)
      << log;
  cv::Mat back = cv::imread(png.string());
  ASSERT_FALSE(back.empty());
  cv::Vec3b px = back.at<cv::Vec3b>(120, 160);
  EXPECT_LT(px[0], 40);
  EXPECT_LT(px[1], 40);
  EXPECT_GT(px[2], 215);
}

TEST(VideoEncoder, DestructorFinishesTheFile) {
  test::TempDir dir;
  auto file = dir / "unclosed.mp4";
  {
    VideoEncoder enc(file.string(), 320, 240, 10);
    for (int i = 0; i < 8; ++i) enc.write(synthetic(320, 240, i), i / 10.0);
  }
  EXPECT_EQ(frames_of(stream_info(file)), 8);
}

// A fragmented MP4 is read while it is being written (ffprobe on the file the encoder still holds open):
// every fragment finished so far decodes, and closing completes it with every frame.
TEST(VideoEncoder, Mp4IsReadableWhileItIsWritten) {
  test::TempDir dir;
  auto file = dir / "live.mp4";
  VideoEncoder enc(file.string(), 320, 240, 10);
  for (int i = 0; i < 60; ++i) enc.write(synthetic(320, 240, i), i / 10.0);  // 6 s
  // Fragments are cut at least every second of media; the encoder's look-ahead holds the newest frames.
  const int partial = frames_of(stream_info(file));
  EXPECT_GE(partial, 30);
  EXPECT_LE(partial, 60);
  std::string log;
  EXPECT_TRUE(decodes_cleanly(file, &log)) << log;
  for (int i = 60; i < 80; ++i) enc.write(synthetic(320, 240, i), i / 10.0);
  EXPECT_GT(frames_of(stream_info(file)), partial);  // it keeps growing for its readers
  enc.close();
  EXPECT_EQ(frames_of(stream_info(file)), 80);
  EXPECT_NEAR(duration_of(file), 8.0, 0.11);
}

// A run killed without finishing its video (SIGKILL, power cut) leaves a playable file up to its last
// fragment, where a plain MP4 would lack its index ("moov atom not found").
TEST(VideoEncoder, AKilledWriterLeavesAPlayableMp4) {
  test::TempDir dir;
  auto file = dir / "killed.mp4";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    VideoEncoder enc(file.string(), 320, 240, 10);
    for (int i = 0; i < 50; ++i) enc.write(synthetic(320, 240, i), i / 10.0);
    ::raise(SIGKILL);  // no destructor, no trailer
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  const int frames = frames_of(stream_info(file));
  EXPECT_GE(frames, 20);
  EXPECT_LE(frames, 50);
  std::string log;
  EXPECT_TRUE(decodes_cleanly(file, &log)) << log;
}

TEST(VideoEncoder, CloseIsIdempotentAndEndsWriting) {
  test::TempDir dir;
  auto file = dir / "closed.mp4";
  VideoEncoder enc(file.string(), 320, 240, 10);
  enc.write(synthetic(320, 240, 0), 0.0);
  enc.close();
  enc.close();
  EXPECT_THROW(enc.write(synthetic(320, 240, 1), 0.1), std::logic_error);
  EXPECT_EQ(frames_of(stream_info(file)), 1);
}

TEST(VideoEncoder, MoveKeepsTheFileOpen) {
  test::TempDir dir;
  auto file = dir / "moved.mp4";
  VideoEncoder a(file.string(), 320, 240, 10);
  a.write(synthetic(320, 240, 0), 0.0);
  VideoEncoder b(std::move(a));
  b.write(synthetic(320, 240, 1), 0.1);
  b.close();
  EXPECT_EQ(frames_of(stream_info(file)), 2);
}

TEST(VideoEncoder, UnwritablePathThrowsWithThePath) {
  const std::string path = "/nonexistent/dir/x.mp4";
  try {
    VideoEncoder enc(path, 320, 240, 10);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
}

TEST(VideoEncoder, UnknownContainerThrows) {
  test::TempDir dir;
  auto path = (dir / "x.notaformat").string();
  try {
    VideoEncoder enc(path, 320, 240, 10);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(VideoEncoder, BadArgumentsThrow) {
  test::TempDir dir;
  auto path = (dir / "x.mp4").string();
  EXPECT_THROW(VideoEncoder(path, 0, 240, 10), std::invalid_argument);
  EXPECT_THROW(VideoEncoder(path, 320, 240, 0), std::invalid_argument);
  VideoEncoder enc(path, 320, 240, 10);
  EXPECT_THROW(enc.write(cv::Mat(), 0.0), std::invalid_argument);
  EXPECT_THROW(enc.write(cv::Mat(240, 320, CV_32FC3), 0.0), std::invalid_argument);
  EXPECT_THROW(enc.write(synthetic(320, 240, 0), std::nan("")), std::invalid_argument);
}

TEST(Annotate, DrawsTheBoxAndLeavesTheRestAlone) {
  cv::Mat image(240, 320, CV_8UC3, cv::Scalar(40, 40, 40));
  const cv::Mat before = image.clone();
  draw_annotations(image, {{cv::Rect2f(100, 80, 60, 100), "person", 0.87f}}, {});
  auto changed = [&](int x, int y) { return image.at<cv::Vec3b>(y, x) != before.at<cv::Vec3b>(y, x); };
  EXPECT_TRUE(changed(100, 130));   // left border
  EXPECT_TRUE(changed(160, 130));   // right border
  EXPECT_TRUE(changed(130, 180));   // bottom border
  EXPECT_TRUE(changed(105, 75));    // label background above the box
  EXPECT_FALSE(changed(300, 230));  // far away
  EXPECT_FALSE(changed(130, 130));  // inside the box
  // The border has the label's colour.
  cv::Scalar c = label_color("person");
  cv::Vec3b border = image.at<cv::Vec3b>(130, 100);
  for (int ch = 0; ch < 3; ++ch) EXPECT_NEAR(border[ch], c[ch], 12) << "channel " << ch;  // anti-aliased
}

TEST(Annotate, ColoursFollowTheLabel) {
  EXPECT_EQ(label_color("person"), label_color(std::string("per") + "son"));
  EXPECT_NE(label_color("person"), label_color("car"));
}

TEST(Annotate, LabelsStayInsideTheImage) {
  cv::Mat image(240, 320, CV_8UC3, cv::Scalar(0, 0, 0));
  // Box at the top-right corner and partly outside: no room above, none to the right.
  draw_annotations(image, {{cv::Rect2f(300, 0, 100, 50), "a-long-label-name", 0.5f}}, {});
  const cv::Vec3b colour = [] {
    cv::Scalar c = label_color("a-long-label-name");
    return cv::Vec3b(uchar(c[0]), uchar(c[1]), uchar(c[2]));
  }();
  auto is_label = [&](int x, int y) { return image.at<cv::Vec3b>(y, x) == colour; };
  // The label is a filled rectangle whose top rows (its padding) hold no text: on row 1 it runs from its
  // left edge to the image's right edge, pushed left of the box because it is wider than the 20 pixels
  // of the box inside the image.
  int left = 319;
  while (left > 0 && is_label(left - 1, 1)) --left;
  ASSERT_TRUE(is_label(319, 1)) << "the label ends at the right edge of the image";
  EXPECT_LT(left, 300 - 60) << "a 22-character label is far wider than the box's visible part";
  EXPECT_GT(left, 0) << "and narrower than the image";
  // It starts at the top (no room above the box): under the box's top edge, and a text line high.
  int bottom = 0;
  while (bottom < 239 && is_label(319, bottom + 1)) ++bottom;
  EXPECT_TRUE(is_label(319, 0));
  EXPECT_GE(bottom, 8);
  EXPECT_LT(bottom, 30);
  // Nothing left of the label, and under it only the box's border: its left edge at x = 300 and its
  // bottom edge at y = 50 (anti-aliased, so a pixel either side).
  const cv::Rect label(left, 0, 320 - left, bottom + 1);
  const cv::Rect border_left(299, 0, 3, 52), border_bottom(299, 49, 21, 3);
  for (int y = 0; y < 240; ++y)
    for (int x = 0; x < 320; ++x) {
      const cv::Point p(x, y);
      if (label.contains(p) || border_left.contains(p) || border_bottom.contains(p)) continue;
      ASSERT_EQ(image.at<cv::Vec3b>(y, x), cv::Vec3b(0, 0, 0))
          << "drawn at " << x << "," << y << " outside the label and border";
    }
  // The label's text is inside its rectangle: pixels of another colour than the fill, below the padding.
  int text = 0;
  for (int y = 2; y <= bottom; ++y)
    for (int x = left; x < 320; ++x) text += !is_label(x, y);
  EXPECT_GT(text, 50);
  // Non-finite and huge coordinates are ignored or clamped, not a crash.
  draw_annotations(
      image,
      {{cv::Rect2f(std::nanf(""), 0, 10, 10), "x", 0.1f}, {cv::Rect2f(-1e30f, -1e30f, 2e30f, 2e30f), "y", 1}},
      {});
}

TEST(Annotate, OverlayDarkensTheTopLeft) {
  cv::Mat image(240, 320, CV_8UC3, cv::Scalar(200, 200, 200));
  draw_annotations(image, {}, {"people: 5", "fps 9.8"});
  // A pixel of the panel that is between text rows/after the text stays darkened, not painted over.
  cv::Vec3b panel = image.at<cv::Vec3b>(4, 4);
  EXPECT_LT(panel[0], 120);
  EXPECT_EQ(image.at<cv::Vec3b>(200, 300), cv::Vec3b(200, 200, 200));
  cv::Mat empty;
  draw_annotations(empty, {{cv::Rect2f(0, 0, 1, 1), "x", 1}}, {"y"});  // no crash
}

}  // namespace
}  // namespace sf
