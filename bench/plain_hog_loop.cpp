// Baseline for the HOG benchmark: the plainest sequential OpenCV loop doing the same work as
// `sightflow run --detector hog` with its default parameters (src/infer/hog_people_detector.hpp).
// Decode a frame, upscale it, run HOG, map the boxes back, count them; nothing overlaps.
//
// Usage: plain_hog_loop [VIDEO] [MAX_FRAMES]   (MAX_FRAMES <= 0 or absent: every frame)
// Prints one JSON line: {"frames":N,"detections":N,"seconds":S,"fps":F}
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const std::string video = argc > 1 ? argv[1] : "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
  const long max_frames = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 0;

  // sightflow's HogParams defaults.
  const double upscale = 1.5;
  const double hit_threshold = 0.0;
  const cv::Size win_stride(8, 8), padding(8, 8);
  const double scale = 1.1;
  const double group_threshold = 2;

  cv::HOGDescriptor hog;
  hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());

  const auto start = std::chrono::steady_clock::now();
  cv::VideoCapture capture(video);
  if (!capture.isOpened()) {
    std::fprintf(stderr, "plain_hog_loop: cannot open %s\n", video.c_str());
    return 1;
  }
  cv::Mat frame, scaled;
  std::vector<cv::Rect> found;
  std::vector<double> weights;
  long frames = 0, detections = 0;
  while ((max_frames <= 0 || frames < max_frames) && capture.read(frame)) {
    cv::resize(frame, scaled, cv::Size(), upscale, upscale, cv::INTER_LINEAR);
    found.clear();
    weights.clear();
    hog.detectMultiScale(scaled, found, weights, hit_threshold, win_stride, padding, scale, group_threshold);
    const cv::Rect2f bounds(0, 0, float(frame.cols), float(frame.rows));
    for (const cv::Rect& r : found) {
      const float inv = float(1.0 / upscale);
      const cv::Rect2f box =
          cv::Rect2f(float(r.x) * inv, float(r.y) * inv, float(r.width) * inv, float(r.height) * inv) &
          bounds;
      if (box.area() > 0) ++detections;
    }
    ++frames;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"frames\":%ld,\"detections\":%ld,\"seconds\":%.3f,\"fps\":%.3f,\"opencv_threads\":%d}\n",
              frames, detections, seconds, seconds > 0 ? double(frames) / seconds : 0.0, cv::getNumThreads());
  return frames > 0 ? 0 : 1;
}
