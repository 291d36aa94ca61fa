#pragma once
// Rectangular linear assignment (Hungarian / Kuhn-Munkres, O(n^2 m)): used to match ground truth to
// tracks when scoring, and by trackers to match detections to tracks.
#include <limits>
#include <vector>

namespace sf {

// A cost no assignment may use: such a pair is never returned.
inline constexpr double kForbidden = std::numeric_limits<double>::infinity();

// cost[r][c] is the cost of giving row r column c (all rows the same length; any of them may be empty).
// Returns, per row, its column or -1. Among the assignments with the most allowed pairs (rows and
// columns used at most once, no non-finite cost), the one with the least total cost. Costs may be
// negative: maximise a weight by passing its negation. NaN and -inf count as forbidden too. Throws
// std::invalid_argument on ragged rows.
std::vector<int> solve_assignment(const std::vector<std::vector<double>>& cost);

}  // namespace sf
