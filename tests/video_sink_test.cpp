// The annotated video of a stream analysed by several algorithms: every analysed frame is in it, in order,
// however the algorithms' results interleave on their way to the sink.
#include <gtest/gtest.h>

#include <opencv2/videoio.hpp>

#include "sightflow/sink.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

// Frame f of a 10 fps stream, its grey level 8 f, so that the video shows which frames it holds.
Result result_of(const std::string& algo, int64_t frame) {
  Result r;
  r.stream = "street";
  r.algo = algo;
  r.frame = frame;
  r.pts = double(frame) / 10;
  r.image = cv::Mat(96, 128, CV_8UC3, cv::Scalar::all(double(8 * frame)));
  return r;
}

// What `run --config examples/people-and-faces.yaml` delivered: "scene" runs every 20 frames and is
// fast, so its frame 20 reached the sink while "people" was at frame 15. Frames 16..19 were lost.
TEST(VideoSink, AFastSparseAlgorithmDoesNotCostTheVideoTheFramesItSkipped) {
  test::TempDir dir;
  const auto video = dir / "street.mkv";
  auto sink = make_video_sink(VideoSinkOptions{video.string(), 10, 0, 0}, false);
  sink->write(result_of("people", 0));
  sink->write(result_of("scene", 0));
  for (int64_t f = 1; f <= 15; ++f) sink->write(result_of("people", f));
  sink->write(result_of("scene", 20));
  for (int64_t f = 16; f <= 24; ++f) sink->write(result_of("people", f));
  sink->close();

  EXPECT_EQ(test::ffprobe_frame_count(video), 25);
  cv::VideoCapture capture(video.string());
  ASSERT_TRUE(capture.isOpened());
  cv::Mat frame;
  for (int f = 0; f < 25; ++f) {
    ASSERT_TRUE(capture.read(frame)) << "frame " << f;
    // The grey of the frame's corner, clear of the counts drawn top left (lossy coding: within 3).
    EXPECT_NEAR(frame.at<cv::Vec3b>(90, 120)[1], 8 * f, 3) << "frame " << f;
  }
  EXPECT_FALSE(capture.read(frame));
}

}  // namespace
}  // namespace sf
