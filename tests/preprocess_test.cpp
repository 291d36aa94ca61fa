// Pre-processing: resize modes, the transform back to source pixels, and the NCHW blob values.
#include "infer/dnn/preprocess.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <vector>

using namespace sf;

namespace {

cv::Mat random_image(cv::Size size) {
  cv::Mat m(size, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

double max_diff(const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_INF); }

}  // namespace

TEST(InputTransform, MapsPointsAndClipsBoxes) {
  InputTransform t{0.5f, 0.25f, 10, 20};
  cv::Point2f p = t.to_source({30, 40});
  EXPECT_FLOAT_EQ(p.x, 40);
  EXPECT_FLOAT_EQ(p.y, 80);
  cv::Rect2f box = t.to_source(cv::Rect2f(0, 10, 100, 30), {150, 100});
  EXPECT_FLOAT_EQ(box.x, 0);        // -20 clipped
  EXPECT_FLOAT_EQ(box.y, 0);        // -40 clipped
  EXPECT_FLOAT_EQ(box.width, 150);  // 180 clipped
  EXPECT_FLOAT_EQ(box.height, 80);
  // Fully right of the image: corners (380, -40) and (480, 160) clip to x 150, y 0..100, so the box is
  // empty in width and keeps the image's full height.
  box = t.to_source(cv::Rect2f(200, 10, 50, 50), {150, 100});
  EXPECT_FLOAT_EQ(box.x, 150);
  EXPECT_FLOAT_EQ(box.y, 0);
  EXPECT_FLOAT_EQ(box.width, 0);
  EXPECT_FLOAT_EQ(box.height, 100);
  // Fully above the image: corners (40, -80) and (80, -40) clip to the top edge, an empty height.
  box = t.to_source(cv::Rect2f(30, 0, 20, 10), {150, 100});
  EXPECT_FLOAT_EQ(box.x, 40);
  EXPECT_FLOAT_EQ(box.y, 0);
  EXPECT_FLOAT_EQ(box.width, 40);
  EXPECT_FLOAT_EQ(box.height, 0);
}

TEST(PrepareImage, StretchResizesAndScalesPerAxis) {
  cv::Mat src = random_image({640, 480});
  PreprocessSpec spec;
  spec.input = {320, 320};
  InputTransform t;
  cv::Mat out = prepare_image(src, spec, &t);
  ASSERT_EQ(out.size(), cv::Size(320, 320));
  ASSERT_EQ(out.type(), CV_8UC3);
  cv::Mat ref;
  cv::resize(src, ref, {320, 320}, 0, 0, cv::INTER_LINEAR);
  EXPECT_EQ(max_diff(out, ref), 0);
  EXPECT_FLOAT_EQ(t.scale_x, 0.5f);
  EXPECT_FLOAT_EQ(t.scale_y, 320.f / 480.f);
  EXPECT_FLOAT_EQ(t.offset_x, 0);
  EXPECT_FLOAT_EQ(t.offset_y, 0);
  cv::Point2f p = t.to_source({160, 160});
  EXPECT_NEAR(p.x, 320, 1e-3);
  EXPECT_NEAR(p.y, 240, 1e-3);
}

TEST(PrepareImage, LetterboxTopLeft) {
  cv::Mat src = random_image({640, 480});
  PreprocessSpec spec;
  spec.input = {320, 320};
  spec.resize = ResizeMode::Letterbox;
  spec.pad_value = 114;
  InputTransform t;
  cv::Mat out = prepare_image(src, spec, &t);
  ASSERT_EQ(out.size(), cv::Size(320, 320));
  // r = 0.5: the image fills 320 x 240 at the top; rows 240..319 are padding.
  cv::Mat ref;
  cv::resize(src, ref, {320, 240}, 0, 0, cv::INTER_LINEAR);
  EXPECT_EQ(max_diff(out(cv::Rect(0, 0, 320, 240)), ref), 0);
  EXPECT_EQ(out.at<cv::Vec3b>(240, 0), cv::Vec3b(114, 114, 114));
  EXPECT_EQ(out.at<cv::Vec3b>(319, 319), cv::Vec3b(114, 114, 114));
  EXPECT_FLOAT_EQ(t.scale_x, 0.5f);
  EXPECT_FLOAT_EQ(t.scale_y, 0.5f);
  EXPECT_FLOAT_EQ(t.offset_x, 0);
  EXPECT_FLOAT_EQ(t.offset_y, 0);
  cv::Point2f p = t.to_source({100, 50});
  EXPECT_FLOAT_EQ(p.x, 200);
  EXPECT_FLOAT_EQ(p.y, 100);
}

TEST(PrepareImage, LetterboxCentered) {
  cv::Mat src(480, 640, CV_8UC3, cv::Scalar(10, 20, 30));
  PreprocessSpec spec;
  spec.input = {320, 320};
  spec.resize = ResizeMode::Letterbox;
  spec.letterbox_center = true;
  spec.pad_value = 0;
  InputTransform t;
  cv::Mat out = prepare_image(src, spec, &t);
  // 320 x 240 pasted at y = (320 - 240) / 2 = 40.
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(out.at<cv::Vec3b>(39, 160), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(out.at<cv::Vec3b>(40, 160), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(out.at<cv::Vec3b>(279, 319), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(out.at<cv::Vec3b>(280, 0), cv::Vec3b(0, 0, 0));
  EXPECT_FLOAT_EQ(t.offset_x, 0);
  EXPECT_FLOAT_EQ(t.offset_y, 40);
  cv::Point2f p = t.to_source({160, 160});
  EXPECT_FLOAT_EQ(p.x, 320);
  EXPECT_FLOAT_EQ(p.y, 240);
  // A box reaching into the padding is clipped to the source image.
  cv::Rect2f box = t.to_source(cv::Rect2f(-10, 30, 100, 300), src.size());
  EXPECT_FLOAT_EQ(box.x, 0);
  EXPECT_FLOAT_EQ(box.y, 0);
  EXPECT_FLOAT_EQ(box.width, 180);
  EXPECT_FLOAT_EQ(box.height, 480);
}

TEST(PrepareImage, LetterboxCenteredPortraitFloorsTheOffset) {
  // 100 x 201 into 64 x 64: r = 64 / 201, resized 32 x 64 (31.84 rounds up), x offset floor(32 / 2) = 16.
  cv::Mat src = random_image({100, 201});
  PreprocessSpec spec;
  spec.input = {64, 64};
  spec.resize = ResizeMode::Letterbox;
  spec.letterbox_center = true;
  InputTransform t;
  cv::Mat out = prepare_image(src, spec, &t);
  EXPECT_FLOAT_EQ(t.offset_x, 16);
  EXPECT_FLOAT_EQ(t.offset_y, 0);
  EXPECT_FLOAT_EQ(t.scale_x, 32.f / 100.f);
  EXPECT_FLOAT_EQ(t.scale_y, 64.f / 201.f);
  EXPECT_EQ(out.at<cv::Vec3b>(10, 15), cv::Vec3b(114, 114, 114));
  EXPECT_EQ(out.at<cv::Vec3b>(10, 48), cv::Vec3b(114, 114, 114));
}

TEST(PrepareImage, CenterCropFromShorterSide) {
  cv::Mat src = random_image({400, 300});
  PreprocessSpec spec;
  spec.input = {224, 224};
  spec.resize = ResizeMode::CenterCrop;
  spec.crop_from = 256;
  InputTransform t;
  cv::Mat out = prepare_image(src, spec, &t);
  ASSERT_EQ(out.size(), cv::Size(224, 224));
  ASSERT_TRUE(out.isContinuous());
  // Shorter side 300 -> 256, longer 400 -> round(341.33) = 341; crop at ((341 - 224) / 2, (256 - 224) / 2).
  cv::Mat resized;
  cv::resize(src, resized, {341, 256}, 0, 0, cv::INTER_LINEAR);
  EXPECT_EQ(max_diff(out, resized(cv::Rect(58, 16, 224, 224))), 0);
  EXPECT_FLOAT_EQ(t.scale_x, 341.f / 400.f);
  EXPECT_FLOAT_EQ(t.scale_y, 256.f / 300.f);
  EXPECT_FLOAT_EQ(t.offset_x, -58);
  EXPECT_FLOAT_EQ(t.offset_y, -16);
  cv::Point2f p = t.to_source({0, 0});
  EXPECT_NEAR(p.x, 58 * 400.0 / 341, 1e-3);
  EXPECT_NEAR(p.y, 16 * 300.0 / 256, 1e-3);
}

TEST(PrepareImage, CenterCropDefaultsToTheInputSize) {
  cv::Mat src = random_image({300, 400});  // portrait
  PreprocessSpec spec;
  spec.input = {224, 224};
  spec.resize = ResizeMode::CenterCrop;
  InputTransform t;
  cv::Mat out = prepare_image(src, spec, &t);
  // 300 -> 224, 400 -> round(298.67) = 299; only y is cropped, at (299 - 224) / 2 = 37.
  cv::Mat resized;
  cv::resize(src, resized, {224, 299}, 0, 0, cv::INTER_LINEAR);
  EXPECT_EQ(max_diff(out, resized(cv::Rect(0, 37, 224, 224))), 0);
  EXPECT_FLOAT_EQ(t.offset_x, 0);
  EXPECT_FLOAT_EQ(t.offset_y, -37);
}

TEST(PrepareImage, RejectsEmptyGreyAndFourChannelImages) {
  PreprocessSpec spec;
  try {
    prepare_image(cv::Mat(10, 10, CV_8UC1), spec, nullptr);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("8UC1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(prepare_image(cv::Mat(), spec, nullptr), std::invalid_argument);
  EXPECT_THROW(prepare_image(cv::Mat(10, 10, CV_8UC4), spec, nullptr), std::invalid_argument);
  EXPECT_THROW(prepare_image(cv::Mat(10, 10, CV_32FC3), spec, nullptr), std::invalid_argument);
  EXPECT_NO_THROW(prepare_image(cv::Mat(10, 10, CV_8UC3, cv::Scalar(1, 2, 3)), spec, nullptr));
}

TEST(MakeBlob, AppliesChannelOrderScaleMeanAndStd) {
  // BGR pixels: (10, 20, 30), (40, 50, 60) / (70, 80, 90), (100, 110, 120).
  cv::Mat a = (cv::Mat_<cv::Vec3b>(2, 2) << cv::Vec3b(10, 20, 30), cv::Vec3b(40, 50, 60),
               cv::Vec3b(70, 80, 90), cv::Vec3b(100, 110, 120));
  cv::Mat b = a * 2;
  PreprocessSpec spec;
  spec.input = {2, 2};
  spec.rgb = true;
  spec.scale = 0.5;
  spec.mean = {1, 2, 3};
  spec.std = {2, 4, 8};
  std::vector<cv::Mat> images{a, b};
  cv::Mat blob = make_blob(images, spec);
  ASSERT_EQ(blob.type(), CV_32F);
  ASSERT_EQ(blob.dims, 4);
  EXPECT_EQ(blob.size[0], 2);
  EXPECT_EQ(blob.size[1], 3);
  EXPECT_EQ(blob.size[2], 2);
  EXPECT_EQ(blob.size[3], 2);
  auto at = [&](int n, int c, int y, int x) { return blob.at<float>(std::vector<int>{n, c, y, x}.data()); };
  // Channel 0 is red: (30 * 0.5 - 1) / 2 = 7, (120 * 0.5 - 1) / 2 = 29.5.
  EXPECT_FLOAT_EQ(at(0, 0, 0, 0), 7);
  EXPECT_FLOAT_EQ(at(0, 0, 1, 1), 29.5f);
  // Channel 1 is green: (20 * 0.5 - 2) / 4 = 2, (50 * 0.5 - 2) / 4 = 5.75.
  EXPECT_FLOAT_EQ(at(0, 1, 0, 0), 2);
  EXPECT_FLOAT_EQ(at(0, 1, 0, 1), 5.75f);
  // Channel 2 is blue: (10 * 0.5 - 3) / 8 = 0.25, (70 * 0.5 - 3) / 8 = 4.
  EXPECT_FLOAT_EQ(at(0, 2, 0, 0), 0.25f);
  EXPECT_FLOAT_EQ(at(0, 2, 1, 0), 4);
  // The second image: red 60 -> (30 - 1) / 2 = 14.5, blue 20 -> (10 - 3) / 8 = 0.875.
  EXPECT_FLOAT_EQ(at(1, 0, 0, 0), 14.5f);
  EXPECT_FLOAT_EQ(at(1, 2, 0, 0), 0.875f);
}

TEST(MakeBlob, KeepsBgrWithoutNormalisation) {
  cv::Mat a(2, 2, CV_8UC3, cv::Scalar(10, 20, 30));
  PreprocessSpec spec;
  spec.input = {2, 2};
  cv::Mat blob = make_blob(std::span<const cv::Mat>(&a, 1), spec);
  EXPECT_EQ(blob.size[0], 1);
  const float* p = blob.ptr<float>();
  EXPECT_FLOAT_EQ(p[0], 10);      // B plane
  EXPECT_FLOAT_EQ(p[4], 20);      // G plane
  EXPECT_FLOAT_EQ(p[8 + 3], 30);  // R plane, last pixel
}

TEST(MakeBlob, RejectsWrongSizesTypesAndNoImages) {
  PreprocessSpec spec;
  spec.input = {4, 4};
  std::vector<cv::Mat> wrong_size{cv::Mat(4, 5, CV_8UC3, cv::Scalar::all(0))};
  EXPECT_THROW(make_blob(wrong_size, spec), std::invalid_argument);
  std::vector<cv::Mat> wrong_type{cv::Mat(4, 4, CV_8UC1, cv::Scalar::all(0))};
  EXPECT_THROW(make_blob(wrong_type, spec), std::invalid_argument);
  EXPECT_THROW(make_blob({}, spec), std::invalid_argument);
}
