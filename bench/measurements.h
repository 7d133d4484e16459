// What the benchmarks compute from what they measure, and how they look at
// the processes they start: percentiles, a process's CPU time and resident
// memory, the reads a backend's log shows it served. One definition each,
// so that two benchmarks quoting "p99" or "backend reads" mean the same.
#ifndef PODIUM_BENCH_MEASUREMENTS_H_
#define PODIUM_BENCH_MEASUREMENTS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace podium::bench {

// The value at fraction `p` (0.5: median, 1.0: maximum) of `values`,
// nearest rank below; 0 for none.
double Percentile(std::vector<double> values, double p);

// A process's CPU time (user + system) and resident memory, from /proc;
// zeros for a process that is gone.
struct ProcessSample {
  double cpu_seconds = 0;
  int64_t rss_kib = 0;
};
ProcessSample SampleProcess(pid_t pid);

// The growth of `server`'s resident memory since `rss_before_kib`, per one
// of `count` subscribers that have just opened, in bytes: sampled after a
// second with nothing in flight, so that what opening them left queued has
// gone out. The subscribers' kernel socket buffers are not in it.
double IdleBytesPerSubscriber(pid_t server, int64_t rss_before_kib, int count);

// How often `what` occurs in `text`.
size_t CountOf(absl::string_view text, absl::string_view what);

// The reads a backend started with --verbose=1 logged having served
// (ChangesSince, GetEvent and GetMedals), in `backend_log`.
size_t BackendReads(absl::string_view backend_log);

// "1000,10000" as {1000, 10000}; entries that are not positive integers
// are left out.
std::vector<int> ParseCounts(absl::string_view list);

// A backend's flags for a benchmark's --games file: none when it is empty
// (the built-in day), else --games= with the file's absolute path (the
// backend runs in a directory of its own).
std::vector<std::string> GamesFlags(const std::string& games_file);

// Raises this process's open-file limit as high as it goes (a process with
// CAP_SYS_RESOURCE raises the hard limit too): thousands of subscriber
// sockets here, and as many streams in the servers started from here,
// which inherit the limit.
void RaiseFileLimit();

}  // namespace podium::bench

#endif  // PODIUM_BENCH_MEASUREMENTS_H_
