// encode_jpeg/decode_jpeg round-trip real and synthetic images, agree with OpenCV's codec, and reject bad
// input (truncated, not a JPEG, empty, bad quality) with errors that say what was wrong.
#include "media/jpeg_codec.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

namespace sf {
namespace {

const char* kRealImage = "/usr/share/doc/opencv-doc/examples/data/HappyFish.jpg";

// Gradients (smooth areas) plus shapes and text (sharp edges), so quality changes show.
cv::Mat synthetic(int w = 320, int h = 240) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 255 / w, y * 255 / h, (x + y) * 255 / (w + h));
  cv::rectangle(m, cv::Rect(30, 40, 80, 60), cv::Scalar(20, 200, 240), cv::FILLED);
  cv::circle(m, cv::Point(220, 150), 50, cv::Scalar(255, 255, 255), 3);
  cv::putText(m, "sightflow", cv::Point(40, 200), cv::FONT_HERSHEY_SIMPLEX, 1.0, cv::Scalar(0, 0, 0), 2);
  return m;
}

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  cv::Scalar s = cv::mean(d);
  return (s[0] + s[1] + s[2]) / a.channels();
}

template <typename Fn>
std::string jpeg_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const JpegError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no JpegError thrown";
  return "";
}

void expect_round_trip(const cv::Mat& image) {
  auto q95 = encode_jpeg(image, 95);
  auto q20 = encode_jpeg(image, 20);
  cv::Mat back95 = decode_jpeg(q95), back20 = decode_jpeg(q20);
  ASSERT_EQ(back95.size(), image.size());
  ASSERT_EQ(back95.type(), CV_8UC3);
  ASSERT_EQ(back20.size(), image.size());
  const double d95 = mean_abs_diff(image, back95), d20 = mean_abs_diff(image, back20);
  EXPECT_LT(d95, 3.0);
  EXPECT_GT(d20, d95);
  EXPECT_LT(q20.size(), q95.size());
}

TEST(JpegCodec, RoundTripsASyntheticImage) { expect_round_trip(synthetic()); }

TEST(JpegCodec, RoundTripsARealImage) {
  if (!std::filesystem::exists(kRealImage)) GTEST_SKIP() << kRealImage << " missing (opencv-doc)";
  cv::Mat image = cv::imread(kRealImage, cv::IMREAD_COLOR);
  ASSERT_FALSE(image.empty());
  expect_round_trip(image);
}

TEST(JpegCodec, EncodesARegionOfInterest) {
  cv::Mat big = synthetic();
  cv::Mat roi = big(cv::Rect(10, 20, 101, 77));  // odd size, not continuous
  ASSERT_FALSE(roi.isContinuous());
  cv::Mat back = decode_jpeg(encode_jpeg(roi, 95));
  ASSERT_EQ(back.size(), roi.size());
  EXPECT_LT(mean_abs_diff(roi, back), 4.0);
}

TEST(JpegCodec, EncodesGreyImagesAndDecodesThemAsBgr) {
  cv::Mat gray;
  cv::cvtColor(synthetic(), gray, cv::COLOR_BGR2GRAY);
  auto bytes = encode_jpeg(gray, 95);
  cv::Mat back = decode_jpeg(bytes);
  ASSERT_EQ(back.size(), gray.size());
  ASSERT_EQ(back.type(), CV_8UC3);
  cv::Mat back_gray;
  cv::cvtColor(back, back_gray, cv::COLOR_BGR2GRAY);
  EXPECT_LT(mean_abs_diff(gray, back_gray), 2.0);
  EXPECT_EQ(cv::imdecode(bytes, cv::IMREAD_UNCHANGED).channels(), 1);  // a single-component JPEG
}

TEST(JpegCodec, DecodesLikeOpenCv) {
  auto bytes = encode_jpeg(synthetic(), 80);
  cv::Mat ours = decode_jpeg(bytes);
  cv::Mat theirs = cv::imdecode(bytes, cv::IMREAD_COLOR);
  ASSERT_EQ(ours.size(), theirs.size());
  cv::Mat d;
  cv::absdiff(ours, theirs, d);
  double max_diff = 0;
  cv::minMaxLoc(d.reshape(1), nullptr, &max_diff);
  EXPECT_LE(max_diff, 2.0);

  // And OpenCV reads what we write.
  cv::imencode(".jpg", synthetic(), bytes, {cv::IMWRITE_JPEG_QUALITY, 90});
  cv::absdiff(decode_jpeg(bytes), cv::imdecode(bytes, cv::IMREAD_COLOR), d);
  cv::minMaxLoc(d.reshape(1), nullptr, &max_diff);
  EXPECT_LE(max_diff, 2.0);
}

TEST(JpegCodec, TruncatedJpegIsAnErrorThatSaysSo) {
  auto bytes = encode_jpeg(synthetic(), 90);
  bytes.resize(bytes.size() / 2);
  std::string what = jpeg_error_of([&] { decode_jpeg(bytes); });
  EXPECT_NE(what.find("truncated"), std::string::npos) << what;
  EXPECT_NE(what.find("Premature end of JPEG file"), std::string::npos) << what;
  EXPECT_NE(what.find(std::to_string(bytes.size()) + " bytes"), std::string::npos) << what;
}

TEST(JpegCodec, RandomBytesAreNotAJpeg) {
  std::mt19937 rng(7);
  std::vector<unsigned char> bytes(4096);
  for (auto& b : bytes) b = static_cast<unsigned char>(rng());
  std::string what = jpeg_error_of([&] { decode_jpeg(bytes); });
  EXPECT_NE(what.find("not a JPEG"), std::string::npos) << what;

  // A JPEG start marker followed by garbage fails too.
  bytes[0] = 0xFF;
  bytes[1] = 0xD8;
  jpeg_error_of([&] { decode_jpeg(bytes); });
}

TEST(JpegCodec, EmptyInputIsAnError) {
  std::string what = jpeg_error_of([] { decode_jpeg(std::vector<unsigned char>{}); });
  EXPECT_NE(what.find("empty"), std::string::npos) << what;
  jpeg_error_of([] { decode_jpeg(nullptr, 0); });
}

TEST(JpegCodec, RejectsBadEncoderArguments) {
  cv::Mat image = synthetic(64, 48);
  EXPECT_THROW(encode_jpeg(image, 0), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(image, 101), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(cv::Mat(), 90), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(cv::Mat(48, 64, CV_8UC4, cv::Scalar::all(0)), 90), std::invalid_argument);
  EXPECT_THROW(encode_jpeg(cv::Mat(48, 64, CV_16UC3, cv::Scalar::all(0)), 90), std::invalid_argument);
  EXPECT_NO_THROW(encode_jpeg(image, 1));
  EXPECT_NO_THROW(encode_jpeg(image, 100));
}

}  // namespace
}  // namespace sf
