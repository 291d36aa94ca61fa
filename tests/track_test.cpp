#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "sightflow/stage.hpp"
#include "track/box_kalman_filter.hpp"
#include "track/byte_tracker.hpp"
#include "track/track_stage.hpp"

namespace sf {
namespace {

Detection person(float x, float y, float score = 0.9f, const std::string& label = "person") {
  Detection d;
  d.label = label;
  d.score = score;
  d.box = {x, y, 30, 80};
  return d;
}

std::optional<int64_t> id_of(ByteTracker& tracker, Detection d, double pts) {
  std::vector<Detection> v{std::move(d)};
  tracker.update(v, pts);
  return v[0].track_id;
}

TEST(TrackKalman, PredictsAMovingBoxFromMediaTime) {
  // 50 px/s to the right, seen 10 times a second.
  BoxKalmanFilter kf({100, 100, 30, 80}, 0.0);
  for (int i = 1; i <= 10; ++i) {
    kf.predict(i * 0.1);
    kf.correct({100.f + 5.f * i, 100, 30, 80});
  }
  EXPECT_NEAR(kf.velocity().x, 50, 5);
  kf.predict(2.0);  // one second later, no sighting in between
  EXPECT_NEAR(kf.box().x, 200, 6);
  EXPECT_NEAR(kf.box().y, 100, 2);
  EXPECT_NEAR(kf.box().width, 30, 1);
}

TEST(TrackByteTracker, TwoCrossingObjectsKeepTheirIds) {
  ByteTracker tracker;
  std::optional<int64_t> a0, b0;
  for (int i = 0; i <= 40; ++i) {
    // A walks right, B walks left, on lines 30 px apart: they overlap in the middle.
    std::vector<Detection> v{person(100.f + 10.f * i, 100), person(500.f - 10.f * i, 130)};
    tracker.update(v, i * 0.1);
    if (i == 2) a0 = v[0].track_id, b0 = v[1].track_id;
    if (i > 2) {
      EXPECT_EQ(v[0].track_id, a0) << "frame " << i;
      EXPECT_EQ(v[1].track_id, b0) << "frame " << i;
    }
  }
  ASSERT_TRUE(a0 && b0);
  EXPECT_NE(*a0, *b0);
}

// A stands still, B walks through A; while they overlap the detector gives one box for both.
std::vector<std::optional<int64_t>> walk_through(const ByteTrackerOptions& options) {
  ByteTracker tracker(options);
  std::vector<std::optional<int64_t>> last(2);
  for (int i = 0; i <= 50; ++i) {
    const float bx = 60.f + 5.f * i;
    std::vector<Detection> v{person(200, 100), person(bx, 104)};
    if (std::abs(bx - 200) < 30) {
      v = {person(std::min(bx, 200.f), 100)};
      v[0].box.width = std::abs(bx - 200) + 30;
    }
    tracker.update(v, i * 0.1);
    if (v.size() == 2) last = {v[0].track_id, v[1].track_id};
  }
  return last;
}

TEST(TrackByteTracker, IdsSurviveOneBoxForTwoPeople) {
  const auto ids = walk_through({});
  EXPECT_EQ(ids[0], std::optional<int64_t>(1));
  EXPECT_EQ(ids[1], std::optional<int64_t>(2));
}

TEST(TrackByteTracker, IdsComeAtConfirmation) {
  ByteTrackerOptions options;
  options.min_hits = 3;
  ByteTracker tracker(options);
  EXPECT_FALSE(id_of(tracker, person(100, 100), 0.0));
  EXPECT_FALSE(id_of(tracker, person(100, 100), 0.1));
  EXPECT_EQ(id_of(tracker, person(100, 100), 0.2), 1);
}

TEST(TrackByteTracker, AShortGapKeepsTheIdALongOneDoesNot) {
  ByteTrackerOptions options;
  options.max_gap = 1.0;
  options.min_hits = 2;
  ByteTracker tracker(options);
  double t = 0;
  for (; t < 0.55; t += 0.1) id_of(tracker, person(100, 100), t);
  const auto id = id_of(tracker, person(100, 100), t);
  ASSERT_TRUE(id);
  std::vector<Detection> none;
  tracker.update(none, t + 0.5);
  EXPECT_EQ(id_of(tracker, person(100, 100), t + 0.9), id);  // 0.9 s unseen < max_gap
  const double later = t + 0.9 + 1.5;                        // 1.5 s unseen > max_gap
  tracker.update(none, later - 0.5);
  EXPECT_FALSE(id_of(tracker, person(100, 100), later));  // a new, tentative track
  const auto again = id_of(tracker, person(100, 100), later + 0.1);
  ASSERT_TRUE(again);
  EXPECT_NE(*again, *id);
}

TEST(TrackByteTracker, ALowScoreDetectionKeepsATrackAlive) {
  ByteTrackerOptions options;
  options.max_gap = 0.3;
  ByteTracker tracker(options);
  const auto id = [&] {
    id_of(tracker, person(100, 100), 0.0);
    return id_of(tracker, person(100, 100), 0.1);
  }();
  ASSERT_TRUE(id);
  // A second of low scores (partly hidden): far longer than max_gap, yet the same track.
  for (int i = 2; i <= 12; ++i) EXPECT_EQ(id_of(tracker, person(100, 100, 0.3f), i * 0.1), id);
  // Low scores never start a track.
  ByteTracker fresh;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(id_of(fresh, person(100, 100, 0.3f), i * 0.1));
}

TEST(TrackByteTracker, AnUnsureDetectionGetsAnIdOnlyIfItPersists) {
  ByteTrackerOptions options;  // high 0.45, new_track 0.7
  options.unsure_hits = 4;
  // Someone half hidden scores 0.5 frame after frame: an id at the fourth sighting, not before.
  ByteTracker tracker(options);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(id_of(tracker, person(100, 100, 0.5f), i * 0.1)) << i;
  EXPECT_TRUE(id_of(tracker, person(100, 100, 0.5f), 0.3));
  // A one-off 0.5 box never gets one, and a sure sighting confirms an unsure start at once.
  ByteTracker flicker(options);
  EXPECT_FALSE(id_of(flicker, person(300, 100, 0.5f), 0.0));
  EXPECT_FALSE(id_of(flicker, person(500, 100, 0.5f), 0.1));
  EXPECT_TRUE(id_of(flicker, person(500, 100, 0.9f), 0.2));
  // unsure_hits 0: such boxes start nothing.
  options.unsure_hits = 0;
  ByteTracker never(options);
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(id_of(never, person(100, 100, 0.5f), i * 0.1)) << i;
}

TEST(TrackByteTracker, AnUnsureBoxOverAConfirmedTrackStartsNothing) {
  // In a crowd one person's box is often echoed by a weaker, shifted one: it must not become a new person.
  ByteTrackerOptions options;
  options.unsure_hits = 2;
  ByteTracker tracker(options);
  const auto first = id_of(tracker, person(100, 100), 0.0);
  ASSERT_TRUE(first);
  for (int i = 1; i < 6; ++i) {
    std::vector<Detection> v{person(100, 100), person(112, 104, 0.5f)};
    tracker.update(v, i * 0.1);
    EXPECT_EQ(v[0].track_id, first) << i;
    EXPECT_FALSE(v[1].track_id) << i;
  }
}

TEST(TrackByteTracker, ClassesAreTrackedApart) {
  ByteTracker tracker;
  std::vector<Detection> v;
  for (int i = 0; i < 3; ++i) {
    v = {person(100, 100, 0.9f, "person"), person(102, 100, 0.9f, "bicycle")};
    tracker.update(v, i * 0.1);
  }
  ASSERT_TRUE(v[0].track_id && v[1].track_id);
  EXPECT_NE(*v[0].track_id, *v[1].track_id);
  // A bicycle where only a person was does not take the person's track.
  v = {person(100, 100, 0.9f, "bicycle")};
  tracker.update(v, 0.3);
  const auto person_id =
      tracker.tracks().front().label == "person" ? tracker.tracks().front().id : tracker.tracks().back().id;
  EXPECT_NE(v[0].track_id, std::optional<int64_t>(person_id));
}

TEST(TrackByteTracker, TimeComesFromPtsNotFrameCount) {
  // Two people at 50 px/s (boxes 30 wide), 10 frames a second: every frame for 3 s, then every `step`th.
  // At step 10 a box moves 50 px between updates, more than its width: only a velocity in media time
  // (not per update) predicts where it is.
  auto run = [](int step) {
    ByteTracker tracker;
    std::vector<std::pair<int, std::vector<int64_t>>> ids;  // frame, ids
    for (int i = 0; i <= 90; i += (i < 30 ? 1 : step)) {
      std::vector<Detection> v{person(50.f + 5.f * i, 100), person(600.f - 5.f * i, 300)};
      tracker.update(v, i * 0.1);
      ids.push_back({i, {v[0].track_id.value_or(-1), v[1].track_id.value_or(-1)}});
    }
    return ids;
  };
  for (int step : {1, 3, 10}) {
    for (const auto& [frame, ids] : run(step)) {
      if (frame < 1) continue;  // confirmed at the second sighting
      EXPECT_EQ(ids, (std::vector<int64_t>{1, 2})) << "step " << step << ", frame " << frame;
    }
  }
  // Every 3rd frame from the start tracks the same as every frame.
  auto every = run(1);
  ByteTracker third;
  for (int i = 0; i <= 90; i += 3) {
    std::vector<Detection> v{person(50.f + 5.f * i, 100), person(600.f - 5.f * i, 300)};
    third.update(v, i * 0.1);
    if (i >= 3) {
      EXPECT_EQ(v[0].track_id, 1) << i;
      EXPECT_EQ(v[1].track_id, 2) << i;
    }
  }
  ASSERT_EQ(third.tracks().size(), 2u);
  EXPECT_NEAR(third.tracks()[0].box.x, 50 + 5 * 90, 3);
}

TEST(TrackStage, RejectsUnknownOptionsByName) {
  try {
    create_stage({"track", {{"max_gapp", 2}}});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_gapp"), std::string::npos) << e.what();
  }
  EXPECT_THROW(create_stage({"track", {{"high", "x"}}}), std::invalid_argument);
  EXPECT_THROW(create_stage({"track", {{"low", 0.9}, {"high", 0.5}}}), std::invalid_argument);
  EXPECT_NO_THROW(create_stage({"track", {{"max_gap", 3}, {"min_hits", 2}}}));
}

TEST(TrackStage, CarriedResultsAreRelabelledNotCounted) {
  // keep_untracked: the unconfirmed first sighting stays in the result, so its missing id can be seen.
  auto stage = create_stage({"track", {{"min_hits", 2}, {"max_gap", 0.5}, {"keep_untracked", true}}});
  Frame frame;
  auto result = [](double pts, bool carried) {
    Result r;
    r.pts = pts;
    r.detections = {person(100, 100)};
    if (carried) r.values["motion"] = {{"carried", true}};
    return r;
  };
  auto r0 = result(0.0, false), r1 = result(0.1, true);
  stage->process(r0, frame);
  stage->process(r1, frame);
  EXPECT_FALSE(r1.detections[0].track_id);  // a carried copy is not a second hit
  auto r2 = result(0.2, false);
  stage->process(r2, frame);
  ASSERT_TRUE(r2.detections[0].track_id);
  // Carried for longer than max_gap: relabelled with the id, the track still ends at max_gap.
  for (int i = 3; i <= 6; ++i) {
    auto r = result(i * 0.1, true);
    stage->process(r, frame);
    EXPECT_EQ(r.detections[0].track_id, r2.detections[0].track_id);
  }
}

TEST(TrackStage, ATrackedResultHoldsTheTrackedObjectsUnlessAskedToKeepTheRest) {
  // One confirmed person, one low-score box far away (second stage only: never starts a track) and one
  // high-score box seen once with min_hits 2 (tentative): only the first is an object of the result.
  auto detections = [](double dx) {
    return std::vector<Detection>{person(100 + float(dx), 100), person(400, 100, 0.2f),
                                  person(250 + float(dx) * 10, 300, 0.95f)};
  };
  Frame frame;
  for (bool keep : {false, true}) {
    auto stage = create_stage({"track", {{"min_hits", 2}, {"keep_untracked", keep}}});
    Result r0, r1;
    r0.pts = 0.0;
    r0.detections = detections(0);
    stage->process(r0, frame);
    r1.pts = 0.1;
    r1.detections = detections(2);
    r1.detections.pop_back();                          // the third box is gone: its track stays tentative
    r1.detections.push_back(person(600, 400, 0.95f));  // a new one, seen once
    stage->process(r1, frame);
    if (!keep) {
      ASSERT_EQ(r1.detections.size(), 1u);
      EXPECT_TRUE(r1.detections[0].track_id);
      EXPECT_NEAR(r1.detections[0].box.x, 102, 3);
    } else {
      ASSERT_EQ(r1.detections.size(), 3u);
      EXPECT_TRUE(r1.detections[0].track_id);
      EXPECT_FALSE(r1.detections[1].track_id);
      EXPECT_FALSE(r1.detections[2].track_id);
    }
  }
  EXPECT_THROW(create_stage({"track", {{"keep_untracked", 1}}}), std::invalid_argument);
}

TEST(TrackStage, HoldReportsAMissedTrackWithItsPredictedBoxForAWhile) {
  Frame frame;
  for (double hold : {0.0, 0.25}) {
    auto stage = create_stage({"track", {{"hold", hold}}});
    std::optional<int64_t> id;
    std::vector<size_t> sizes;
    for (int i = 0; i <= 6; ++i) {
      Result r;
      r.pts = i * 0.1;
      if (i < 3) r.detections = {person(100 + 10.f * float(i), 100)};  // walks right, then is missed
      stage->process(r, frame);
      sizes.push_back(r.detections.size());
      if (i == 0) id = r.detections.at(0).track_id;
      if (hold > 0 && i >= 3 && !r.detections.empty()) {
        EXPECT_EQ(r.detections[0].track_id, id);
        EXPECT_EQ(r.detections[0].score, 0.f);             // predicted, not seen
        EXPECT_GT(r.detections[0].box.x, 100 + 10.f * 2);  // where it was going
      }
    }
    if (hold == 0)
      EXPECT_EQ(sizes, (std::vector<size_t>{1, 1, 1, 0, 0, 0, 0}));
    else  // unseen 0.1 and 0.2 s: held; 0.3 s and later: not
      EXPECT_EQ(sizes, (std::vector<size_t>{1, 1, 1, 1, 1, 0, 0}));
  }
  EXPECT_THROW(create_stage({"track", {{"hold", -1}}}), std::invalid_argument);
}

}  // namespace
}  // namespace sf
