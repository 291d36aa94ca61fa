#include "sightflow/evaluation.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

using namespace sf;

namespace {
Detection det(float x, float y, float w, float h, float score = 1) {
  return {"person", 0, score, {x, y, w, h}, {}};
}
}  // namespace

TEST(Evaluation, CountsMatchesMissesAndFalsePositives) {
  DetectionEvaluator ev(0.5);
  std::vector<GroundTruthBox> truth = {{{0, 0, 10, 20}, false}, {{100, 100, 10, 20}, false}};
  ev.add_frame({det(1, 1, 10, 20), det(300, 300, 10, 20)}, truth);
  auto s = ev.summary();
  EXPECT_EQ(s.true_positives, 1);
  EXPECT_EQ(s.false_positives, 1);
  EXPECT_EQ(s.false_negatives, 1);
  EXPECT_DOUBLE_EQ(s.precision, 0.5);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);
  EXPECT_DOUBLE_EQ(s.count_mae, 0.0);
}

TEST(Evaluation, OneTruthBoxMatchesOnlyOnce) {
  DetectionEvaluator ev(0.5);
  ev.add_frame({det(0, 0, 10, 20, 0.9f), det(0, 1, 10, 20, 0.8f)}, {{{0, 0, 10, 20}, false}});
  auto s = ev.summary();
  EXPECT_EQ(s.true_positives, 1);
  EXPECT_EQ(s.false_positives, 1);
  EXPECT_DOUBLE_EQ(s.count_mae, 1.0);
}

TEST(Evaluation, IgnoredTruthIsNeitherMissNorFalsePositive) {
  DetectionEvaluator ev(0.5);
  ev.add_frame({det(0, 0, 10, 20)}, {{{0, 0, 10, 20}, true}, {{50, 50, 10, 20}, true}});
  auto s = ev.summary();
  EXPECT_EQ(s.true_positives + s.false_positives + s.false_negatives, 0);
}

TEST(Evaluation, AveragePrecisionRewardsRankingTruePositivesFirst) {
  std::vector<GroundTruthBox> truth = {{{0, 0, 10, 20}, false}};
  DetectionEvaluator good(0.5), bad(0.5);
  good.add_frame({det(0, 0, 10, 20, 0.9f), det(200, 0, 10, 20, 0.1f)}, truth);
  bad.add_frame({det(0, 0, 10, 20, 0.1f), det(200, 0, 10, 20, 0.9f)}, truth);
  EXPECT_DOUBLE_EQ(good.summary().average_precision, 1.0);
  EXPECT_DOUBLE_EQ(bad.summary().average_precision, 0.5);
}

TEST(Evaluation, LoadsMotGroundTruthWithOneBasedFramesAndFlags) {
  test::TempDir dir;
  auto path = (dir / "gt.txt").string();
  std::ofstream(path)
      << "1,1,10,20,30,60,1,-1,-1,-1\n1,2,50,20,30,60,0,-1,-1,-1\n3,1,11,21,30,60,1,-1,-1,-1\n";
  auto gt = load_mot_ground_truth(path);
  ASSERT_EQ(gt.size(), 2u);
  ASSERT_EQ(gt[0].size(), 2u);
  EXPECT_FALSE(gt[0][0].ignore);
  EXPECT_TRUE(gt[0][1].ignore);
  EXPECT_FLOAT_EQ(gt[2][0].box.x, 11);
  std::ofstream(path) << "1,1,10,twenty\n";
  try {
    load_mot_ground_truth(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":1"), std::string::npos) << e.what();
  }
}

TEST(Evaluation, SharedPetsGroundTruthHasTheDocumentedShape) {
  auto gt = load_mot_ground_truth(test::shared_dir() + "/eval/pets09-s2l1/gt.txt");
  size_t rows = 0, ignored = 0;
  for (auto& [frame, boxes] : gt) {
    rows += boxes.size();
    for (auto& b : boxes) ignored += b.ignore;
  }
  EXPECT_EQ(gt.begin()->first, 0);
  EXPECT_EQ(gt.rbegin()->first, 794);
  EXPECT_EQ(rows, 4650u);
  EXPECT_EQ(ignored, 174u);
}
