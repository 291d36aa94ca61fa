// Test-time augmentation (`--param tta=...`): weighted box fusion on hand-computed cases, mirrored passes
// mapped back to the image, and the real yolox-nano with its mirrored pass on frames of vtest.avi.
#include "infer/dnn/augmented_model.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "sightflow/evaluation.hpp"
#include "sightflow/source.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

Detection box(float x, float y, float w, float h, float score, const std::string& label = "person") {
  return {label, 0, score, cv::Rect2f(x, y, w, h), {}};
}

TEST(FusePasses, OverlappingBoxesOfTwoPassesAreAveragedByScore) {
  // tl = (0.8 * (0, 0) + 0.4 * (1, 1)) / 1.2, br = (0.8 * (10, 10) + 0.4 * (11, 11)) / 1.2, score 1.2 / 2.
  auto fused = fuse_passes({{box(0, 0, 10, 10, 0.8f)}, {box(1, 1, 10, 10, 0.4f)}}, 0.55f, 0.1f);
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_NEAR(fused[0].box.x, 1.0 / 3, 1e-5);
  EXPECT_NEAR(fused[0].box.y, 1.0 / 3, 1e-5);
  EXPECT_NEAR(fused[0].box.br().x, 31.0 / 3, 1e-5);
  EXPECT_NEAR(fused[0].box.br().y, 31.0 / 3, 1e-5);
  EXPECT_NEAR(fused[0].score, 0.6, 1e-6);
}

TEST(FusePasses, ABoxOnePassAloneSawScoresItsShareAndMayFallUnderTheThreshold) {
  const std::vector<std::vector<Detection>> passes{{box(0, 0, 10, 10, 0.9f), box(50, 50, 10, 10, 0.6f)},
                                                   {box(0, 0, 10, 10, 0.9f)}};
  auto kept = fuse_passes(passes, 0.55f, 0.25f);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_NEAR(kept[0].score, 0.9, 1e-6);
  EXPECT_NEAR(kept[1].score, 0.3, 1e-6) << "0.6 seen by one pass of two";
  EXPECT_NEAR(kept[1].box.x, 50, 1e-4);
  EXPECT_NEAR(kept[1].box.width, 10, 1e-4);
  EXPECT_EQ(fuse_passes(passes, 0.55f, 0.4f).size(), 1u);
}

TEST(FusePasses, BoxesOfOnePassOrOfTwoLabelsStayApart) {
  // Two people side by side in one pass are two people, however much they overlap.
  auto same_pass = fuse_passes({{box(0, 0, 10, 20, 0.9f), box(2, 0, 10, 20, 0.8f)}}, 0.3f, 0.1f);
  EXPECT_EQ(same_pass.size(), 2u);
  auto two_labels = fuse_passes({{box(0, 0, 10, 20, 0.9f)}, {box(0, 0, 10, 20, 0.9f, "dog")}}, 0.3f, 0.1f);
  ASSERT_EQ(two_labels.size(), 2u);
  EXPECT_NEAR(two_labels[0].score, 0.45, 1e-6);
  EXPECT_NE(two_labels[0].label, two_labels[1].label);
}

// Finds the bright pixels of the image it is given: on a mirrored image, the mirrored place.
class BrightRegionModel : public Model {
 public:
  const ModelInfo& info() const override { return info_; }
  std::vector<ModelOutput> infer(std::span<const cv::Mat> images, StageTimes*) override {
    std::vector<ModelOutput> out;
    for (const auto& image : images) {
      cv::Mat gray, mask;
      cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
      cv::threshold(gray, mask, 128, 255, cv::THRESH_BINARY);
      out.push_back({{box(0, 0, 0, 0, 0.8f)}, {}});
      out.back().detections[0].box = cv::Rect2f(cv::boundingRect(mask));
    }
    return out;
  }

 private:
  ModelInfo info_{"bright", ModelTask::Detection, 1, {"person"}};
};

TEST(AugmentedModel, AMirroredPassesBoxesAreMappedBackOntoTheImage) {
  std::vector<AugmentedPass> passes;
  passes.push_back({std::make_unique<BrightRegionModel>(), false});
  passes.push_back({std::make_unique<BrightRegionModel>(), true});
  AugmentedModel model(std::move(passes), 0.55f, 0.4f);
  cv::Mat image(60, 100, CV_8UC3, cv::Scalar::all(0));
  image(cv::Rect(10, 5, 20, 30)).setTo(cv::Scalar::all(255));
  auto out = model.infer(std::span<const cv::Mat>(&image, 1));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].detections.size(), 1u) << "both passes found the same place, so one fused box";
  EXPECT_EQ(out[0].detections[0].box, cv::Rect2f(10, 5, 20, 30));
  EXPECT_NEAR(out[0].detections[0].score, 0.8, 1e-6);
}

TEST(AugmentedModel, YoloxNanoWithItsMirroredPassFindsThePeopleOfVtest) {
  auto truth = load_mot_ground_truth(test::shared_dir() + "/eval/pets09-s2l1/gt.txt");
  auto plain = create_model("yolox-nano", {{"input", "416"}});
  auto augmented = create_model("yolox-nano", {{"input", "416"}, {"tta", "mirror"}});
  EXPECT_EQ(augmented->info().class_names, plain->info().class_names);
  DetectionEvaluator with_tta(0.5), without(0.5);
  auto source = open_source(test::vtest_path(), {});
  for (int i = 0; i < 200; ++i) {
    auto frame = source->read();
    ASSERT_TRUE(frame);
    if (frame->seq % 20 != 0) continue;
    const auto& gt = truth[frame->seq];  // keyed by 0-based video frame
    auto keep_people = [](std::vector<Detection> all) {
      std::erase_if(all, [](const Detection& d) { return d.label != "person"; });
      return all;
    };
    with_tta.add_frame(
        keep_people(augmented->infer(std::span<const cv::Mat>(&frame->image, 1)).at(0).detections), gt);
    without.add_frame(keep_people(plain->infer(std::span<const cv::Mat>(&frame->image, 1)).at(0).detections),
                      gt);
  }
  // Every 20th of the first 200 frames (ten). Measured at input 416: with the mirrored pass precision
  // 0.766, recall 0.875 (plain: 0.769, 0.893); the floors sit two boxes under.
  EXPECT_GE(with_tta.summary().precision, 0.74);
  EXPECT_GE(with_tta.summary().recall, 0.85);
  EXPECT_GE(without.summary().recall, 0.85) << "the plain model, for comparison";
}

TEST(AugmentedModel, BadPassListsAreRefusedNamingTheParameter) {
  EXPECT_THROW(create_model("yolox-nano", {{"tta_iou", "0.5"}}), std::invalid_argument)
      << "tta_iou without tta";
  for (const std::string tta : {",", "mirror,,640", "640,640,640,640,640", "abc"}) {
    try {
      create_model("yolox-nano", {{"tta", tta}});
      ADD_FAILURE() << "tta=" << tta << " was accepted";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.find("parameter 'tta'") != std::string::npos ||
                  what.find("parameter 'input'") != std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace sf
