#include "sightflow/assignment.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

namespace sf {
namespace {

using Matrix = std::vector<std::vector<double>>;

struct Score {
  int pairs = 0;
  double cost = 0;
};

Score score(const Matrix& cost, const std::vector<int>& rows) {
  Score s;
  std::set<int> cols;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r] < 0) continue;
    EXPECT_TRUE(cols.insert(rows[r]).second) << "column used twice";
    EXPECT_TRUE(std::isfinite(cost[r][rows[r]])) << "forbidden pair returned";
    ++s.pairs;
    s.cost += cost[r][rows[r]];
  }
  return s;
}

// Every partial assignment: the most allowed pairs, then the least cost.
void brute(const Matrix& cost, size_t r, std::vector<int>& cur, std::vector<char>& used, Score now,
           Score& best) {
  if (r == cost.size()) {
    if (now.pairs > best.pairs || (now.pairs == best.pairs && now.cost < best.cost - 1e-9)) best = now;
    return;
  }
  cur[r] = -1;
  brute(cost, r + 1, cur, used, now, best);
  for (size_t c = 0; c < cost[r].size(); ++c) {
    if (used[c] || !std::isfinite(cost[r][c])) continue;
    used[c] = 1;
    brute(cost, r + 1, cur, used, {now.pairs + 1, now.cost + cost[r][c]}, best);
    used[c] = 0;
  }
}

TEST(Assignment, MatchesBruteForceOnRandomMatrices) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    int rows = std::uniform_int_distribution<int>(0, 6)(rng),
        cols = std::uniform_int_distribution<int>(0, 6)(rng);
    double forbid = std::uniform_real_distribution<double>(0, 0.6)(rng);
    bool integers = trial % 2 == 0;  // ties
    Matrix cost(rows, std::vector<double>(cols));
    for (auto& row : cost)
      for (auto& c : row) {
        if (std::uniform_real_distribution<double>(0, 1)(rng) < forbid)
          c = kForbidden;
        else if (integers)
          c = std::uniform_int_distribution<int>(-3, 3)(rng);
        else
          c = std::uniform_real_distribution<double>(-5, 5)(rng);
      }
    auto got = solve_assignment(cost);
    ASSERT_EQ(got.size(), static_cast<size_t>(rows));
    Score s = score(cost, got), best{-1, 0};
    std::vector<int> cur(rows);
    std::vector<char> used(cols);
    brute(cost, 0, cur, used, {}, best);
    ASSERT_EQ(s.pairs, best.pairs) << "trial " << trial;
    ASSERT_NEAR(s.cost, best.cost, 1e-9) << "trial " << trial;
  }
}

TEST(Assignment, SmallCases) {
  EXPECT_TRUE(solve_assignment({}).empty());
  EXPECT_EQ(solve_assignment({{}, {}}), (std::vector<int>{-1, -1}));
  EXPECT_EQ(solve_assignment({{1, 0}, {0, 1}}), (std::vector<int>{1, 0}));
  // More rows than columns: the cheaper row wins the column.
  EXPECT_EQ(solve_assignment({{5}, {2}, {9}}), (std::vector<int>{-1, 0, -1}));
  // Forbidden everywhere but one pair.
  EXPECT_EQ(solve_assignment({{kForbidden, kForbidden}, {kForbidden, 3}}), (std::vector<int>{-1, 1}));
  // Maximising a weight by its negation.
  EXPECT_EQ(solve_assignment({{-10, -9}, {-9, -1}}), (std::vector<int>{1, 0}));
  EXPECT_THROW(solve_assignment({{1, 2}, {3}}), std::invalid_argument);
}

}  // namespace
}  // namespace sf
