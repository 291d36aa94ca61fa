#include "store/query_limits.hpp"

#include <sstream>
#include <stdexcept>

namespace sf {

void validate(const QueryLimits& limits) {
  if (!(limits.timeout_s >= 0 && limits.timeout_s <= 86400))
    throw std::invalid_argument("--timeout must be in [0, 86400] seconds (0: none)");
  if (limits.max_rows < 0) throw std::invalid_argument("--max-rows must not be negative (0: none)");
}

std::string query_timeout_message(const QueryLimits& limits) {
  std::ostringstream out;
  out << "query stopped after " << limits.timeout_s << " s (--timeout; raise it or narrow the query)";
  return out.str();
}

std::string query_rows_message(const QueryLimits& limits) {
  return "query stopped: more than " + std::to_string(limits.max_rows) +
         " rows (--max-rows; raise it, or add LIMIT or a WHERE clause)";
}

}  // namespace sf
