#include "bench/h2load_run.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/subprocess.h"

namespace podium::bench {

std::string FindH2load() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path == nullptr ? "" : path, ':')) {
    const std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/h2load");
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

CpuSplit SplitCpus() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  CpuSplit split;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return split;
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  }
  if (cpus.size() < 2) return split;
  split.servers = {cpus.back()};
  split.load.assign(cpus.begin(), cpus.end() - 1);
  return split;
}

absl::Status PinCallingThread(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  // pid 0: the calling thread; a fork copies its mask.
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot pin to CPUs ", absl::StrJoin(cpus, ","), ": ", std::strerror(errno),
                     " (run with --pin=false to leave placement to the scheduler)"));
  }
  return absl::OkStatus();
}

std::string GrpcFrame(const std::string& message) {
  std::string frame(5, '\0');
  const uint32_t size = message.size();
  for (int i = 0; i < 4; ++i) frame[1 + i] = static_cast<char>(size >> (8 * (3 - i)));
  return frame + message;
}

CallRate RunH2load(const std::string& url, const std::string& frame, int clients, int streams,
                   absl::Duration duration, const std::string& dir, const std::vector<int>& cpus) {
  const std::string body = dir + "/h2load.request";
  std::ofstream(body, std::ios::binary) << frame;
  const std::string out = dir + "/h2load.out";
  const std::string log = dir + "/h2load.latencies";
  std::filesystem::remove(out);
  std::filesystem::remove(log);
  // The fork takes this thread's mask: pinned for it, then put back.
  cpu_set_t before;
  CPU_ZERO(&before);
  const bool pin = !cpus.empty() && sched_getaffinity(0, sizeof(before), &before) == 0;
  if (pin) {
    if (absl::Status pinned = PinCallingThread(cpus); !pinned.ok()) {
      std::fprintf(stderr, "%s\n", std::string(pinned.message()).c_str());
      return CallRate();
    }
  }
  absl::StatusOr<harness::Subprocess> h2load = harness::Subprocess::Start(
      {FindH2load(), "-t1", absl::StrCat("-c", clients), absl::StrCat("-m", streams),
       absl::StrCat("-D", std::max<int64_t>(1, absl::ToInt64Seconds(duration))), "-d", body, "-H",
       "content-type: application/grpc", "-H", "te: trailers", "--log-file=" + log, url},
      out);
  if (pin && sched_setaffinity(0, sizeof(before), &before) != 0) {
    std::fprintf(stderr, "cannot restore this thread's CPUs after starting h2load: %s\n",
                 std::strerror(errno));
  }
  CallRate result;
  if (!h2load.ok()) {
    std::fprintf(stderr, "cannot start h2load: %s\n",
                 std::string(h2load.status().message()).c_str());
    return result;
  }
  absl::StatusOr<int> status = h2load->Wait(duration + absl::Seconds(60));
  std::ifstream in(out);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  double rate = 0;
  int64_t total = 0, succeeded = 0;
  const size_t finished = text.find("finished in ");
  const size_t requests = text.find("requests: ");
  if (!status.ok() || *status != 0 || finished == std::string::npos ||
      requests == std::string::npos ||
      std::sscanf(text.c_str() + text.find(", ", finished) + 2, "%lf req/s", &rate) != 1 ||
      std::sscanf(text.c_str() + requests,
                  "requests: %" SCNd64 " total, %*d started, %*d done, %" SCNd64 " succeeded",
                  &total, &succeeded) != 2 ||
      total == 0 || succeeded != total) {
    std::fprintf(stderr, "h2load against %s did not answer every call: %s\n", url.c_str(),
                 text.c_str());
    return result;
  }
  std::vector<double> latencies;
  std::ifstream lines(log);
  int64_t start_us, code, duration_us;
  while (lines >> start_us >> code >> duration_us) {
    if (code != 200) return result;
    latencies.push_back(static_cast<double>(duration_us));
  }
  if (latencies.empty()) return result;
  std::sort(latencies.begin(), latencies.end());
  result.calls_per_second = rate;
  result.p50_us = latencies[latencies.size() / 2];
  result.p99_us = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  return result;
}

}  // namespace podium::bench
