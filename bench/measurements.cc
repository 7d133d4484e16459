#include "bench/measurements.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace podium::bench {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(values.size() * p));
  std::nth_element(values.begin(), values.begin() + i, values.end());
  return values[i];
}

ProcessSample SampleProcess(pid_t pid) {
  ProcessSample sample;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 > line.size()) return sample;
  // Fields after the command's closing parenthesis; utime and stime are
  // the 12th and 13th of them.
  std::istringstream rest(line.substr(paren + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  double utime = 0, stime = 0;
  if (fields.size() > 12 && absl::SimpleAtod(fields[11], &utime) &&
      absl::SimpleAtod(fields[12], &stime)) {
    sample.cpu_seconds = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    int64_t kib = 0;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line.substr(6), ' ', absl::SkipWhitespace());
    if (!parts.empty() && absl::SimpleAtoi(parts[0], &kib)) sample.rss_kib = kib;
  }
  return sample;
}

double IdleBytesPerSubscriber(pid_t server, int64_t rss_before_kib, int count) {
  absl::SleepFor(absl::Seconds(1));
  const int64_t rss_open = SampleProcess(server).rss_kib;
  std::fprintf(stderr, "%s: server RSS %lld KiB before, %lld KiB with %d idle subscribers\n",
               program_invocation_short_name, static_cast<long long>(rss_before_kib),
               static_cast<long long>(rss_open), count);
  return 1024.0 * static_cast<double>(rss_open - rss_before_kib) / count;
}

size_t CountOf(absl::string_view text, absl::string_view what) {
  if (what.empty()) return 0;
  size_t n = 0;
  for (size_t at = text.find(what); at != absl::string_view::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

size_t BackendReads(absl::string_view backend_log) {
  return CountOf(backend_log, "ChangesSince after=") + CountOf(backend_log, "GetEvent ") +
         CountOf(backend_log, "GetMedals ");
}

std::vector<int> ParseCounts(absl::string_view list) {
  std::vector<int> counts;
  for (absl::string_view n : absl::StrSplit(list, ',')) {
    int count = 0;
    if (absl::SimpleAtoi(n, &count) && count > 0) counts.push_back(count);
  }
  return counts;
}

std::vector<std::string> GamesFlags(const std::string& games_file) {
  if (games_file.empty()) return {};
  return {"--games=" + std::filesystem::absolute(games_file).string()};
}

void RaiseFileLimit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  const rlim_t most = std::max<rlim_t>(files.rlim_max, 65536);
  rlimit wanted{most, most};
  if (::setrlimit(RLIMIT_NOFILE, &wanted) != 0) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
}

}  // namespace podium::bench
