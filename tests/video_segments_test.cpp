// Segmented annotated video: the files' names and numbering (continued after an earlier run's), the bound
// on how many are kept, and the video sink cutting a stream by media time into files that each play.
#include "sink/video_segments.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "sightflow/sink.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

std::vector<std::string> names(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.filename().string());
  return out;
}

void touch(const std::filesystem::path& path) { std::ofstream(path) << "x"; }

TEST(VideoSegments, NumbersGoOnAfterTheHighestAndOnlySegmentsOfTheNameCount) {
  test::TempDir dir;
  for (const char* name : {"v-007.mp4", "v-1000.mp4", "v-01.mp4", "v-abc.mp4", "w-009.mp4", "v-008.mkv"})
    touch(dir / name);
  VideoSegments segments(dir / "v.mp4", 0);
  EXPECT_EQ(names(segments.existing()), (std::vector<std::string>{"v-007.mp4", "v-1000.mp4"}));
  EXPECT_EQ(segments.start_next().filename(), "v-1001.mp4");
  EXPECT_EQ(segments.start_next().filename(), "v-1002.mp4");
  VideoSegments fresh(dir / "new.mp4", 0);
  EXPECT_EQ(fresh.start_next(), dir / "new-000.mp4");
}

TEST(VideoSegments, KeepDeletesTheOldestWhenANewOneStarts) {
  test::TempDir dir;
  VideoSegments segments(dir / "v.mp4", 3);
  for (int i = 0; i < 5; ++i) {
    auto next = segments.start_next();
    EXPECT_LE(segments.existing().size(), 2u) << "room is made before the new file exists";
    touch(next);
  }
  EXPECT_EQ(names(segments.existing()), (std::vector<std::string>{"v-002.mp4", "v-003.mp4", "v-004.mp4"}));
  touch(dir / "v-01.mp4");  // not a segment: never deleted
  segments.start_next();
  EXPECT_TRUE(std::filesystem::exists(dir / "v-01.mp4"));
  EXPECT_FALSE(std::filesystem::exists(dir / "v-002.mp4"));
}

int frames_in(const std::filesystem::path& file) {
  std::string out;
  EXPECT_EQ(test::run_command({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                               "-show_entries", "stream=nb_read_frames", "-of", "json", file.string()},
                              &out, 60),
            0)
      << out;
  auto brace = out.find('{');
  if (brace == std::string::npos) return -1;
  auto streams = nlohmann::json::parse(out.substr(brace))["streams"];
  if (streams.empty()) return -1;
  // A file whose first fragment is not written yet has its stream and no frames.
  return std::stoi(streams[0].value("nb_read_frames", std::string("0")));
}

// 6.5 s of a stream at 10 fps cut every 2 s of media: four files of 20, 20, 20 and 5 frames, of which
// the newest two are kept; an earlier run's segment is counted (and numbered after).
TEST(VideoSink, SegmentsCutByMediaTimeEachPlayAndTheNewestAreKept) {
  test::TempDir dir;
  touch(dir / "cam-004.mp4");
  auto sink = make_video_sink(VideoSinkOptions{(dir / "cam.mp4").string(), 10, 2.0, 2}, false);
  for (int64_t f = 0; f < 65; ++f) {
    Result r;
    r.stream = "cam";
    r.algo = "people";
    r.frame = f;
    r.pts = 100 + double(f) / 10;  // a stream's media time need not start at 0
    r.image = cv::Mat(120, 160, CV_8UC3, cv::Scalar(40, 90, 160));
    cv::circle(r.image, {int(f * 2) % 160, 60}, 20, cv::Scalar(250, 250, 250), cv::FILLED);
    r.detections.push_back({"person", 0, 0.9f, {10, 10, 30, 60}, {}});
    sink->write(r);
    if (f == 45) {  // mid-run: the segments so far, and the one being written is readable
      EXPECT_TRUE(std::filesystem::exists(dir / "cam-006.mp4"));
      EXPECT_EQ(frames_in(dir / "cam-006.mp4"), 20);
      EXPECT_FALSE(std::filesystem::exists(dir / "cam-004.mp4"));
      EXPECT_GE(frames_in(dir / "cam-007.mp4"), 0);
    }
  }
  sink->close();
  VideoSegments segments(dir / "cam.mp4", 0);
  ASSERT_EQ(names(segments.existing()), (std::vector<std::string>{"cam-007.mp4", "cam-008.mp4"}));
  EXPECT_EQ(frames_in(dir / "cam-007.mp4"), 20);
  EXPECT_EQ(frames_in(dir / "cam-008.mp4"), 5);
}

}  // namespace
}  // namespace sf
