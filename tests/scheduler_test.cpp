#include <gtest/gtest.h>

#include "sightflow/schedule.hpp"

using namespace sf;

namespace {
Frame frame_at(int64_t seq, double fps = 10) {
  Frame f;
  f.stream = "s";
  f.seq = seq;
  f.pts = double(seq) / fps;
  return f;
}

// Sequence numbers of the newest frame of every run over `n` frames.
std::vector<int64_t> runs(const Schedule& s, int n, std::vector<std::vector<int64_t>>* inputs = nullptr) {
  Scheduler scheduler(s);
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    if (auto frames = scheduler.offer(frame_at(i))) {
      out.push_back(frames->back().seq);
      if (inputs) {
        std::vector<int64_t> seqs;
        for (auto& f : *frames) seqs.push_back(f.seq);
        inputs->push_back(seqs);
      }
    }
  }
  return out;
}
}  // namespace

TEST(Scheduler, DefaultRunsOnEveryFrame) {
  auto r = runs({}, 20);
  ASSERT_EQ(r.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r[size_t(i)], i);
}

TEST(Scheduler, FrameStepTakesEveryNthFrame) {
  EXPECT_EQ(runs({1, 5, 0}, 21), (std::vector<int64_t>{0, 5, 10, 15, 20}));
}

TEST(Scheduler, FrameCountHandsConsecutiveCandidatesOldestFirst) {
  std::vector<std::vector<int64_t>> inputs;
  auto r = runs({3, 2, 0}, 10, &inputs);
  // Candidates 0,2,4,6,8: the first run needs three of them.
  EXPECT_EQ(r, (std::vector<int64_t>{4, 6, 8}));
  EXPECT_EQ(inputs[0], (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(inputs[2], (std::vector<int64_t>{4, 6, 8}));
}

TEST(Scheduler, IntervalIsMediaTime) {
  // 10 fps, every 0.5 s of media time: frames 0, 5, 10, ... despite 0.1 not being exact in binary.
  EXPECT_EQ(runs({1, 1, 0.5}, 21), (std::vector<int64_t>{0, 5, 10, 15, 20}));
  // An interval shorter than the frame step changes nothing; a longer one wins.
  EXPECT_EQ(runs({1, 3, 0.1}, 10), (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(runs({1, 3, 1.0}, 25), (std::vector<int64_t>{0, 12, 24}));
}

TEST(Scheduler, AllThreeRulesTogether) {
  std::vector<std::vector<int64_t>> inputs;
  auto r = runs({2, 2, 1.0}, 30, &inputs);
  // Candidates every 2nd frame; runs need two of them and at least 1 s (10 frames) apart.
  EXPECT_EQ(r, (std::vector<int64_t>{2, 12, 22}));
  EXPECT_EQ(inputs[1], (std::vector<int64_t>{10, 12}));
}

TEST(Scheduler, RejectsBadSchedules) {
  EXPECT_THROW(Scheduler({0, 1, 0}), std::invalid_argument);
  EXPECT_THROW(Scheduler({1, 0, 0}), std::invalid_argument);
  EXPECT_THROW(Scheduler({1, 1, -1}), std::invalid_argument);
}
