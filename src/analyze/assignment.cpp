#include "sightflow/assignment.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sf {

namespace {

// Shortest augmenting path Hungarian on a dense n x m matrix with n <= m (1-based internally, the
// classic potentials formulation). Returns the column of each row.
std::vector<int> hungarian(const std::vector<std::vector<double>>& a, int n, int m) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(m + 1, 0), minv(m + 1);
  std::vector<int> p(m + 1, 0), way(m + 1, 0);
  std::vector<char> used(m + 1);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::fill(minv.begin(), minv.end(), inf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      int i0 = p[j0], j1 = 0;
      double delta = inf;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        double cur = a[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> row_col(n, -1);
  for (int j = 1; j <= m; ++j)
    if (p[j] != 0) row_col[p[j] - 1] = j - 1;
  return row_col;
}

}  // namespace

std::vector<int> solve_assignment(const std::vector<std::vector<double>>& cost) {
  const int rows = static_cast<int>(cost.size());
  if (rows == 0) return {};
  const int cols = static_cast<int>(cost[0].size());
  double lo = 0, hi = 0;
  bool any = false;
  for (const auto& row : cost) {
    if (static_cast<int>(row.size()) != cols)
      throw std::invalid_argument("solve_assignment: ragged cost matrix");
    for (double c : row)
      if (std::isfinite(c)) {
        lo = any ? std::min(lo, c) : c;
        hi = any ? std::max(hi, c) : c;
        any = true;
      }
  }
  std::vector<int> result(rows, -1);
  if (cols == 0 || !any) return result;
  // A forbidden pair costs more than any difference between two sets of allowed pairs, so the solver
  // first maximises the number of allowed pairs; those it still had to use are dropped afterwards.
  const double big = (hi - lo + 1) * (std::min(rows, cols) + 1);
  const bool transpose = rows > cols;
  const int n = transpose ? cols : rows, m = transpose ? rows : cols;
  std::vector<std::vector<double>> a(n, std::vector<double>(m));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      double x = std::isfinite(cost[r][c]) ? cost[r][c] - lo : big;
      (transpose ? a[c][r] : a[r][c]) = x;
    }
  auto match = hungarian(a, n, m);
  for (int i = 0; i < n; ++i) {
    int r = transpose ? match[i] : i, c = transpose ? i : match[i];
    if (r >= 0 && c >= 0 && std::isfinite(cost[r][c])) result[r] = c;
  }
  return result;
}

}  // namespace sf
