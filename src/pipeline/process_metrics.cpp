#include "pipeline/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

#include "pipeline/metric_families.hpp"

namespace sf {

namespace {

// Fields of /proc/self/stat after the command name, which may hold spaces and parentheses: field 3
// (state) comes first, so the field numbered N in proc(5) is fields[N - 3].
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  auto end_of_name = line.rfind(')');
  if (end_of_name == std::string::npos) return {};
  std::istringstream rest(line.substr(end_of_name + 1));
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

// The machine's boot time in seconds since the epoch (`btime` of /proc/stat), 0 if unknown.
double boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  MetricFamilies out;
  auto fields = stat_fields();
  const double ticks = double(sysconf(_SC_CLK_TCK));
  const double page = double(sysconf(_SC_PAGESIZE));
  auto field = [&](size_t number) { return std::stod(fields.at(number - 3)); };
  if (fields.size() >= 22 && ticks > 0) {
    out.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {},
                (field(14) + field(15)) / ticks);
    out.gauge("process_threads", "Number of OS threads in the process.", {}, field(20));
    if (double boot = boot_time(); boot > 0)
      out.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", {},
                boot + field(22) / ticks);
    out.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {}, field(23));
    out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {}, field(24) * page);
  }
  std::error_code ec;
  double open_fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++open_fds;
  if (!ec) out.gauge("process_open_fds", "Number of open file descriptors.", {}, open_fds - 1);  // less ours
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    out.gauge("process_max_fds", "Maximum number of open file descriptors.", {}, double(limit.rlim_cur));
  return out.families();
}

}  // namespace sf
