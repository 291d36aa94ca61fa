// Decoders and NMS on hand-made tensors: each test builds the raw network output and checks the numbers.
#include "infer/decoders/decoders.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

using namespace sf;

namespace {

// Sets one row of a 2-D float tensor.
void set_row(cv::Mat& m, int r, std::initializer_list<float> values) {
  int c = 0;
  for (float v : values) m.at<float>(r, c++) = v;
}

Detection det(int class_id, float score, cv::Rect2f box) { return {"", class_id, score, box, {}}; }

}  // namespace

// --- YOLOX -------------------------------------------------------------------------------------------

// 320x320 with strides 8, 16, 32: 40*40 + 20*20 + 10*10 = 2100 rows of 5 + 80 columns.
class YoloxTest : public ::testing::Test {
 protected:
  cv::Mat rows = cv::Mat::zeros(2100, 85, CV_32F);
  const std::vector<int> strides{8, 16, 32};
  static constexpr int kRow = 1600 + 2 * 20 + 3;  // stride 16, gx = 3, gy = 2

  void SetUp() override {
    cv::Mat row = rows.row(kRow);
    set_row(rows, kRow, {0.5f, 0.5f, std::log(2.f), std::log(4.f), 0.9f});
    row.at<float>(5 + 5) = 0.8f;
    row.at<float>(5 + 7) = 0.1f;
  }
};

TEST_F(YoloxTest, DecodesGridCellOfSecondStride) {
  auto d = decode_yolox(rows, {320, 320}, strides, 0.5f);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 5);
  EXPECT_TRUE(d[0].label.empty());
  EXPECT_NEAR(d[0].score, 0.72f, 1e-6);
  // cx = 3.5 * 16 = 56, cy = 2.5 * 16 = 40, w = 2 * 16 = 32, h = 4 * 16 = 64.
  EXPECT_NEAR(d[0].box.x, 56 - 16, 1e-4);
  EXPECT_NEAR(d[0].box.y, 40 - 32, 1e-4);
  EXPECT_NEAR(d[0].box.width, 32, 1e-4);
  EXPECT_NEAR(d[0].box.height, 64, 1e-4);
  EXPECT_TRUE(d[0].landmarks.empty());
}

TEST_F(YoloxTest, ThresholdFiltersByObjectnessTimesClass) {
  // Class alone (0.8) passes 0.75, but obj * cls = 0.72 does not.
  EXPECT_TRUE(decode_yolox(rows, {320, 320}, strides, 0.75f).empty());
  EXPECT_EQ(decode_yolox(rows, {320, 320}, strides, 0.7f).size(), 1u);
  // A second, weaker row on the first stride (gx = 1, gy = 0) appears only with a lower threshold.
  set_row(rows, 1, {0.f, 0.f, 0.f, 0.f, 0.5f});
  rows.at<float>(1, 5 + 2) = 0.4f;
  EXPECT_EQ(decode_yolox(rows, {320, 320}, strides, 0.5f).size(), 1u);
  auto d = decode_yolox(rows, {320, 320}, strides, 0.1f);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].class_id, 2);
  EXPECT_NEAR(d[0].score, 0.2f, 1e-6);
  EXPECT_NEAR(d[0].box.x, 8 - 4, 1e-5);  // cx = (0 + 1) * 8, w = 8
  EXPECT_NEAR(d[0].box.y, 0 - 4, 1e-5);
}

TEST_F(YoloxTest, AcceptsThreeDimensionalTensor) {
  int shape[] = {1, 2100, 85};
  cv::Mat three(3, shape, CV_32F, rows.data);
  auto d = decode_yolox(three, {320, 320}, strides, 0.5f);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 5);
  EXPECT_NEAR(d[0].box.x, 40, 1e-4);
}

TEST_F(YoloxTest, RowCountMismatchThrowsWithBothCounts) {
  try {
    decode_yolox(rows, {320, 320}, {8, 16}, 0.5f);  // 2000 rows expected
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("2000"), std::string::npos) << what;
    EXPECT_NE(what.find("2100"), std::string::npos) << what;
  }
  EXPECT_THROW(decode_yolox(rows, {640, 640}, strides, 0.5f), std::invalid_argument);
}

TEST(Yolox, RectangularInputIsRowMajor) {
  // 320 wide, 192 high, stride 32: a 10 x 6 grid; the last row is gx = 9, gy = 5.
  cv::Mat rows = cv::Mat::zeros(60, 7, CV_32F);
  set_row(rows, 59, {0.25f, 0.75f, 0.f, 0.f, 1.f, 0.3f, 0.6f});
  auto d = decode_yolox(rows, {320, 192}, {32}, 0.5f);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 1);
  EXPECT_NEAR(d[0].box.x, 9.25f * 32 - 16, 1e-4);
  EXPECT_NEAR(d[0].box.y, 5.75f * 32 - 16, 1e-4);
  EXPECT_NEAR(d[0].box.width, 32, 1e-4);
}

// --- Darknet YOLO ------------------------------------------------------------------------------------

class DarknetTest : public ::testing::Test {
 protected:
  // Two outputs on a 416x320 input with two classes: a 2-D one with two rows and a 3-D one with one.
  std::vector<cv::Mat> outputs;
  void SetUp() override {
    cv::Mat a = cv::Mat::zeros(2, 7, CV_32F);
    set_row(a, 0, {0.5f, 0.25f, 0.1f, 0.2f, 0.9f, 0.3f, 0.6f});
    set_row(a, 1, {0.1f, 0.1f, 0.1f, 0.1f, 0.2f, 0.1f, 0.05f});
    int shape[] = {1, 1, 7};
    cv::Mat b(3, shape, CV_32F, cv::Scalar(0));
    float* p = b.ptr<float>();
    float values[] = {0.75f, 0.5f, 0.5f, 0.25f, 0.8f, 0.7f, 0.2f};
    std::copy(values, values + 7, p);
    outputs = {a, b};
  }
};

TEST_F(DarknetTest, MapsNormalisedBoxesToInputPixels) {
  auto d = decode_darknet_yolo(outputs, {416, 320}, 0.5f);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].class_id, 1);
  EXPECT_NEAR(d[0].score, 0.6f, 1e-6);
  // cx = 208, cy = 80, w = 41.6, h = 64.
  EXPECT_NEAR(d[0].box.x, 208 - 20.8f, 1e-3);
  EXPECT_NEAR(d[0].box.y, 80 - 32, 1e-3);
  EXPECT_NEAR(d[0].box.width, 41.6f, 1e-3);
  EXPECT_NEAR(d[0].box.height, 64, 1e-3);
  EXPECT_EQ(d[1].class_id, 0);
  EXPECT_NEAR(d[1].score, 0.7f, 1e-6);
  // cx = 312, cy = 160, w = 208, h = 80.
  EXPECT_NEAR(d[1].box.x, 312 - 104, 1e-3);
  EXPECT_NEAR(d[1].box.y, 160 - 40, 1e-3);
  EXPECT_NEAR(d[1].box.width, 208, 1e-3);
  EXPECT_NEAR(d[1].box.height, 80, 1e-3);
}

TEST_F(DarknetTest, MultipliesObjectnessWhenScoresAreRaw) {
  auto d = decode_darknet_yolo(outputs, {416, 320}, 0.55f, false);
  ASSERT_EQ(d.size(), 1u);  // 0.9 * 0.6 = 0.54 drops, 0.8 * 0.7 = 0.56 stays
  EXPECT_EQ(d[0].class_id, 0);
  EXPECT_NEAR(d[0].score, 0.56f, 1e-6);
  d = decode_darknet_yolo(outputs, {416, 320}, 0.5f, false);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0].score, 0.54f, 1e-6);
}

TEST_F(DarknetTest, ThresholdAndEmptyOutputs) {
  EXPECT_EQ(decode_darknet_yolo(outputs, {416, 320}, 0.65f).size(), 1u);
  EXPECT_EQ(decode_darknet_yolo(outputs, {416, 320}, 0.1f).size(), 3u);
  EXPECT_TRUE(decode_darknet_yolo({}, {416, 320}, 0.1f).empty());
}

// --- SSD ---------------------------------------------------------------------------------------------

class SsdTest : public ::testing::Test {
 protected:
  cv::Mat out;
  void SetUp() override {
    int shape[] = {1, 1, 6, 7};
    out = cv::Mat(4, shape, CV_32F, cv::Scalar(0));
    float rows[6][7] = {
        {0, 1, 0.9f, 0.1f, 0.2f, 0.5f, 0.6f},   // image 0, class 1
        {1, 2, 0.8f, 0.0f, 0.0f, 1.0f, 1.0f},   // image 1
        {0, 3, 0.3f, 0.2f, 0.2f, 0.4f, 0.4f},   // image 0, low score
        {0, 0, 0.95f, 0.0f, 0.0f, 0.5f, 0.5f},  // image 0, background with offset 1
        {-1, 0, 0, 0, 0, 0, 0},                 // padding
        {1, 5, 0.6f, 0.5f, 0.5f, 0.75f, 1.0f},  // image 1
    };
    std::copy(&rows[0][0], &rows[0][0] + 42, out.ptr<float>());
  }
};

TEST_F(SsdTest, KeepsRowsOfTheImageAndShiftsClasses) {
  auto d = decode_ssd(out, 0, {300, 200}, 0.5f);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 0);
  EXPECT_NEAR(d[0].score, 0.9f, 1e-6);
  EXPECT_NEAR(d[0].box.x, 30, 1e-4);
  EXPECT_NEAR(d[0].box.y, 40, 1e-4);
  EXPECT_NEAR(d[0].box.width, 120, 1e-4);
  EXPECT_NEAR(d[0].box.height, 80, 1e-4);

  d = decode_ssd(out, 1, {300, 200}, 0.5f);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].class_id, 1);
  EXPECT_NEAR(d[0].box.width, 300, 1e-4);
  EXPECT_NEAR(d[0].box.height, 200, 1e-4);
  EXPECT_EQ(d[1].class_id, 4);
  EXPECT_NEAR(d[1].box.x, 150, 1e-4);
  EXPECT_NEAR(d[1].box.y, 100, 1e-4);
  EXPECT_NEAR(d[1].box.width, 75, 1e-4);
  EXPECT_NEAR(d[1].box.height, 100, 1e-4);
}

TEST_F(SsdTest, ClassOffsetZeroKeepsClassZeroAndThresholdApplies) {
  auto d = decode_ssd(out, 0, {300, 200}, 0.2f, 0);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].class_id, 1);
  EXPECT_EQ(d[1].class_id, 3);
  EXPECT_EQ(d[2].class_id, 0);
  EXPECT_NEAR(d[2].score, 0.95f, 1e-6);
  EXPECT_TRUE(decode_ssd(out, 0, {300, 200}, 0.96f, 0).empty());
  EXPECT_TRUE(decode_ssd(out, 2, {300, 200}, 0.0f).empty());
}

// --- Classification ----------------------------------------------------------------------------------

TEST(Classification, SoftmaxOfKnownLogits) {
  cv::Mat logits = (cv::Mat_<float>(1, 3) << 1.f, 2.f, 3.f);
  auto c = decode_classification(logits, 3, true);
  ASSERT_EQ(c.size(), 3u);
  // e^k / (e + e^2 + e^3)
  EXPECT_EQ(c[0].class_id, 2);
  EXPECT_NEAR(c[0].score, 0.6652409558, 1e-6);
  EXPECT_EQ(c[1].class_id, 1);
  EXPECT_NEAR(c[1].score, 0.2447284711, 1e-6);
  EXPECT_EQ(c[2].class_id, 0);
  EXPECT_NEAR(c[2].score, 0.0900305732, 1e-6);
  EXPECT_TRUE(c[0].label.empty());
}

TEST(Classification, SoftmaxIsStableForLargeLogits) {
  cv::Mat logits = (cv::Mat_<float>(3, 1) << 1001.f, 1002.f, 1000.f);
  auto c = decode_classification(logits, 2, true);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].class_id, 1);
  EXPECT_NEAR(c[0].score, 0.6652409558, 1e-6);
  EXPECT_EQ(c[1].class_id, 0);
  EXPECT_NEAR(c[1].score, 0.2447284711, 1e-6);
}

TEST(Classification, TopKOrderTiesAndClipping) {
  int shape[] = {1, 4, 1, 1};
  cv::Mat probs(4, shape, CV_32F);
  float values[] = {0.2f, 0.5f, 0.5f, 0.1f};
  std::copy(values, values + 4, probs.ptr<float>());
  auto c = decode_classification(probs, 10, false);  // top_k > C
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].class_id, 1);  // tie with 2: lower id first
  EXPECT_EQ(c[1].class_id, 2);
  EXPECT_EQ(c[2].class_id, 0);
  EXPECT_EQ(c[3].class_id, 3);
  EXPECT_FLOAT_EQ(c[0].score, 0.5f);  // no softmax: scores as given
  EXPECT_FLOAT_EQ(c[3].score, 0.1f);
  c = decode_classification(probs, 1, false);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].class_id, 1);
  EXPECT_TRUE(decode_classification(probs, 0, false).empty());
}

TEST(Classification, RejectsNonFloatScores) {
  cv::Mat ints = (cv::Mat_<int>(1, 3) << 1, 2, 3);
  EXPECT_THROW(decode_classification(ints, 1, true), std::invalid_argument);
}

// --- YuNet -------------------------------------------------------------------------------------------

TEST(Yunet, ReadsBoxesLandmarksAndScore) {
  cv::Mat faces(2, 15, CV_32F);
  for (int c = 0; c < 14; ++c) {
    faces.at<float>(0, c) = float(10 + c);
    faces.at<float>(1, c) = float(100 + c);
  }
  faces.at<float>(0, 14) = 0.95f;
  faces.at<float>(1, 14) = 0.4f;
  auto d = decode_yunet(faces, 0.5f);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 0);
  EXPECT_FLOAT_EQ(d[0].score, 0.95f);
  EXPECT_EQ(d[0].box, cv::Rect2f(10, 11, 12, 13));
  ASSERT_EQ(d[0].landmarks.size(), 5u);
  EXPECT_EQ(d[0].landmarks[0], cv::Point2f(14, 15));  // right eye
  EXPECT_EQ(d[0].landmarks[2], cv::Point2f(18, 19));  // nose tip
  EXPECT_EQ(d[0].landmarks[4], cv::Point2f(22, 23));  // left mouth corner
  d = decode_yunet(faces, 0.4f);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].box, cv::Rect2f(100, 101, 102, 103));
}

TEST(Yunet, EmptyAndMalformedInput) {
  EXPECT_TRUE(decode_yunet(cv::Mat(), 0.5f).empty());
  EXPECT_THROW(decode_yunet(cv::Mat::zeros(2, 14, CV_32F), 0.5f), std::invalid_argument);
}

// --- NMS ---------------------------------------------------------------------------------------------

// IoU of these two is 81 / 119 = 0.68.
const cv::Rect2f kBoxA(0, 0, 10, 10), kBoxB(1, 1, 10, 10);

TEST(Nms, OverlappingSameClassKeepsTheBest) {
  auto kept = non_max_suppression({det(0, 0.8f, kBoxB), det(0, 0.9f, kBoxA)}, 0.5f);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_EQ(kept[0].box, kBoxA);
  // Below the IoU threshold both stay.
  EXPECT_EQ(non_max_suppression({det(0, 0.8f, kBoxB), det(0, 0.9f, kBoxA)}, 0.7f).size(), 2u);
}

TEST(Nms, DifferentClassesDoNotSuppressUnlessAgnostic) {
  std::vector<Detection> dets{det(0, 0.8f, kBoxA), det(1, 0.9f, kBoxB)};
  auto kept = non_max_suppression(dets, 0.5f);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].class_id, 1);  // sorted by score
  EXPECT_EQ(kept[1].class_id, 0);
  kept = non_max_suppression(dets, 0.5f, true);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].class_id, 1);
}

TEST(Nms, MaxDetectionsKeepsTheHighestScores) {
  std::vector<Detection> dets{det(0, 0.3f, {0, 0, 10, 10}), det(0, 0.7f, {20, 0, 10, 10}),
                              det(1, 0.5f, {40, 0, 10, 10}), det(0, 0.6f, {21, 0, 10, 10}),
                              det(2, 0.01f, {60, 0, 10, 10})};
  auto kept = non_max_suppression(dets, 0.5f);
  ASSERT_EQ(kept.size(), 4u);  // the 0.6 box is suppressed; low scores are not dropped
  EXPECT_FLOAT_EQ(kept[3].score, 0.01f);
  kept = non_max_suppression(dets, 0.5f, false, 2);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.7f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.5f);
  EXPECT_TRUE(non_max_suppression({}, 0.5f).empty());
}
