#include "sightflow/bounded_queue.hpp"

namespace sf {

OverflowPolicy parse_overflow_policy(const std::string& name) {
  if (name == "block") return OverflowPolicy::Block;
  if (name == "drop-oldest") return OverflowPolicy::DropOldest;
  if (name == "drop-newest") return OverflowPolicy::DropNewest;
  throw std::invalid_argument("unknown queue policy '" + name +
                              "' (expected block, drop-oldest or drop-newest)");
}

std::string to_string(OverflowPolicy policy) {
  switch (policy) {
    case OverflowPolicy::Block:
      return "block";
    case OverflowPolicy::DropOldest:
      return "drop-oldest";
    case OverflowPolicy::DropNewest:
      return "drop-newest";
  }
  return "?";
}

}  // namespace sf
