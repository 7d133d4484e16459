// Master failover time: SIGKILL the master frontend, measure until every
// surviving frontend names the next-highest pid as master; then revive the
// killed one (which, with a higher pid, takes over again) and repeat.
//
//   build/bench/election_bench [--rounds=10] [--csv=FILE]
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

ABSL_FLAG(int, rounds, 10, "master kills to measure");
ABSL_FLAG(std::string, csv, "", "also append one row per kill to this CSV file");

namespace podium {
namespace {

int Main() {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  harness::FrontendCluster frontends(dir.path(), backend.address(), 3, "push");
  for (absl::Status s : {backend.Start(), frontends.StartAll()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);
  std::vector<double> failover_ms;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    const int master = frontends.HighestPid();
    if (!frontends.WaitForMaster(frontends.address(master), absl::Seconds(15)).ok()) {
      std::fprintf(stderr, "no agreement before round %d\n", round);
      return 1;
    }
    const absl::Time killed = absl::Now();
    frontends.Kill(master, SIGKILL);
    const int next = frontends.HighestPid();
    // WaitForMaster polls every 10 ms: figures are that coarse.
    if (!frontends.WaitForMaster(frontends.address(next), absl::Seconds(15)).ok()) {
      std::fprintf(stderr, "no new master in round %d\n", round);
      return 1;
    }
    failover_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - killed));
    if (csv.is_open()) csv << round << "," << failover_ms.back() << "\n";
    if (!frontends.Start(master).ok()) return 1;
  }
  std::sort(failover_ms.begin(), failover_ms.end());
  auto at = [&](double p) {
    return failover_ms[std::min(failover_ms.size() - 1,
                                static_cast<size_t>(p * failover_ms.size()))];
  };
  std::printf("| kills | p50 ms | p99 ms | max ms |\n|-------|--------|--------|--------|\n");
  std::printf("| %5zu | %6.0f | %6.0f | %6.0f |\n", failover_ms.size(), at(0.5), at(0.99),
              failover_ms.back());
  return 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As in every Podium binary (common/init.cc): no lock-graph bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return podium::Main();
}
