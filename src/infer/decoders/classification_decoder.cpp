#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "infer/decoders/decoders.hpp"

namespace sf {

std::vector<Classification> decode_classification(const cv::Mat& scores, int top_k, bool apply_softmax) {
  std::vector<Classification> result;
  if (scores.empty() || top_k <= 0) return result;
  if (scores.depth() != CV_32F || scores.channels() != 1) {
    throw std::invalid_argument("classification decoder: expected CV_32F scores");
  }
  // Any shape holding C values ([C], [1, C], [1, C, 1, 1]) is read as a flat list.
  cv::Mat m = scores.isContinuous() ? scores : scores.clone();
  const float* data = m.ptr<float>();
  const int classes = int(m.total());
  std::vector<float> p(data, data + classes);
  if (apply_softmax) {
    // Subtracting the max keeps exp() from overflowing on large logits.
    const float max = *std::max_element(p.begin(), p.end());
    double sum = 0;
    for (float& v : p) {
      v = std::exp(v - max);
      sum += v;
    }
    for (float& v : p) v = float(v / sum);
  }
  std::vector<int> order(classes);
  std::iota(order.begin(), order.end(), 0);
  const int k = std::min(top_k, classes);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return p[a] != p[b] ? p[a] > p[b] : a < b; });
  result.reserve(k);
  for (int i = 0; i < k; ++i) result.push_back({"", order[i], p[order[i]]});
  return result;
}

}  // namespace sf
