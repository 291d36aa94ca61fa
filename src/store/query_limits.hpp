#pragma once
// Bounds on one `sightflow query` statement: a recursive CTE or a cross join must not run, or fill memory,
// without end. Both backends stop the statement and report which bound it met.
#include <cstdint>
#include <string>

namespace sf {

struct QueryLimits {
  double timeout_s = 5.0;     // wall time of the statement; 0: none
  int64_t max_rows = 100000;  // rows kept (every one is held until printed); 0: none
};

// Throws std::invalid_argument naming --timeout or --max-rows for a value out of range.
void validate(const QueryLimits& limits);

// "query stopped after 5 s (--timeout)" / "query stopped: more than 100000 rows (--max-rows)".
std::string query_timeout_message(const QueryLimits& limits);
std::string query_rows_message(const QueryLimits& limits);

}  // namespace sf
