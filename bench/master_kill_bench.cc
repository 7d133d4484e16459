// A change of master at scale (issue 12, figure (a)): N subscriptions on a
// member frontend, then the master is SIGKILLed while a writer keeps
// changing every key; how long until each subscription has its first
// change written after the kill.
//
// One backend (--verbose=1, so that its log counts the reads it served)
// and three push-mode frontends, real processes on loopback; the
// subscriptions live in this process (SubscriberFleet: async API, 64
// connections, 16 completion queues). Subscription i wants event i % K of
// the games' first K events, so there are K key sets. Each round: fresh
// processes, every subscription opened and snapshotted, writes to every
// key each --write_interval, the kill after 2 s of writing, 10 s more of
// writing. Per round:
//   p50/p99/max  from the kill to each subscription's first update with a
//                seq above the backend's once the master is gone (so
//                written after the kill)
//   never        subscriptions without one within 30 s
//   reads        ChangesSince, GetEvent and GetMedals calls the backend
//                served from the kill to the end of the round (its log):
//                10 s after the kill, or later when the wait for every
//                subscription (30 s at most) took longer
//   cpu          member's user+system seconds over the same time
//   rss          member's resident memory before the kill and its peak
//                after (sampled every 50 ms)
//
//   build/bench/master_kill_bench [--subscriptions=1000,10000] [--keys=1,6]
//                                 [--write_interval=200ms] [--rounds=3]
//                                 [--csv=FILE]
//
// Rows of --csv: interval_ms,subscriptions,keys,round,p50_ms,p99_ms,max_ms,
// never,reads,cpu_s,rss_before_kib,rss_peak_kib.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backend/games.h"
#include "bench/measurements.h"
#include "bench/paced_writer.h"
#include "common/keys.h"
#include "harness/cluster.h"
#include "harness/subscriber_fleet.h"
#include "harness/temp_dir.h"

ABSL_FLAG(std::string, subscriptions, "1000,10000", "subscription counts to measure");
ABSL_FLAG(std::string, keys, "1,6", "key counts to measure (subscription i wants key i % K)");
ABSL_FLAG(absl::Duration, write_interval, absl::Milliseconds(200),
          "pause between rounds of writes, one to every key");
ABSL_FLAG(int, rounds, 3, "kills per configuration");
ABSL_FLAG(std::string, csv, "", "also append rows to this CSV file");

namespace podium::bench {
namespace {

// The default games' events, which the servers run; subscription i wants
// event i % K of the first K.
const std::vector<std::string>& Events() {
  static const auto* events = new std::vector<std::string>(Games::Default().events());
  return *events;
}

struct Round {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  int never = 0;
  size_t reads = 0;
  double cpu_seconds = 0;
  int64_t rss_before_kib = 0, rss_peak_kib = 0;
};

absl::StatusOr<Round> Measure(int subscriptions, int keys) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path(), {"--verbose=1"});
  if (absl::Status s = backend.Start(); !s.ok()) return s;
  harness::FrontendCluster frontends(dir.path(), backend.address(), 3, "push");
  if (absl::Status s = frontends.StartAll(); !s.ok()) return s;
  const int master = frontends.HighestPid();
  if (absl::Status s = frontends.WaitForMaster(frontends.address(master), absl::Seconds(15));
      !s.ok()) {
    return s;
  }
  int member = -1;  // the lowest pid stays a member
  for (int i = 0; i < frontends.size(); ++i) {
    if (member < 0 || frontends.pid(i) < frontends.pid(member)) member = i;
  }
  PacedWriter writer(backend.NewStub(), harness::BackendProcess::write_token(),
                     std::vector<std::string>(Events().begin(), Events().begin() + keys),
                     absl::GetFlag(FLAGS_write_interval));
  writer.WriteEach();

  harness::SubscriberFleet fleet(frontends.address(member), {/*channels=*/64, /*queues=*/16});
  for (int i = 0; i < subscriptions; ++i) {
    v1::SubscribeRequest request;
    request.add_events(Events()[i % keys]);
    fleet.Add(request);
  }
  if (absl::Status s = fleet.WaitForSnapshots(absl::Seconds(120)); !s.ok()) return s;

  writer.Start();
  absl::SleepFor(absl::Seconds(2));
  const pid_t member_pid = frontends.pid(member);
  const ProcessSample before = SampleProcess(member_pid);
  const size_t reads_before = BackendReads(backend.log());
  const absl::Time killed = absl::Now();
  frontends.Kill(master, SIGKILL);  // returns once the master is reaped
  absl::StatusOr<int64_t> kill_seq = writer.LatestSeq();
  if (!kill_seq.ok()) return kill_seq.status();
  Round round;
  round.rss_before_kib = before.rss_kib;
  round.rss_peak_kib = before.rss_kib;
  // Wait until every subscription has a post-kill update, up to 30 s,
  // sampling the member's memory meanwhile.
  std::vector<double> latency_ms(static_cast<size_t>(subscriptions), -1);
  int pending = subscriptions;
  while (pending > 0 && absl::Now() < killed + absl::Seconds(30)) {
    absl::SleepFor(absl::Milliseconds(50));
    round.rss_peak_kib = std::max(round.rss_peak_kib, SampleProcess(member_pid).rss_kib);
    pending = 0;
    for (int i = 0; i < subscriptions; ++i) {
      if (latency_ms[i] >= 0) continue;
      const absl::Time first = fleet.FirstAbove(i, *kill_seq);
      if (first == absl::InfiniteFuture()) {
        ++pending;
      } else {
        latency_ms[i] = absl::ToDoubleMilliseconds(first - killed);
      }
    }
  }
  // Ten seconds of writing after the kill in all, for the reads and CPU.
  const absl::Time end = killed + absl::Seconds(10);
  while (absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(50));
    round.rss_peak_kib = std::max(round.rss_peak_kib, SampleProcess(member_pid).rss_kib);
  }
  writer.Stop();
  const ProcessSample after = SampleProcess(member_pid);
  round.cpu_seconds = after.cpu_seconds - before.cpu_seconds;
  round.reads = BackendReads(backend.log()) - reads_before;
  std::vector<double> got;
  for (double ms : latency_ms) {
    if (ms >= 0) {
      got.push_back(ms);
    } else {
      ++round.never;
    }
  }
  round.p50_ms = Percentile(got, 0.5);
  round.p99_ms = Percentile(got, 0.99);
  round.max_ms = got.empty() ? 0 : *std::max_element(got.begin(), got.end());
  return round;
}

int Main() {
  const std::vector<int> counts = ParseCounts(absl::GetFlag(FLAGS_subscriptions));
  const std::vector<int> key_counts = ParseCounts(absl::GetFlag(FLAGS_keys));
  if (counts.empty() || key_counts.empty() ||
      *std::max_element(key_counts.begin(), key_counts.end()) > static_cast<int>(Events().size())) {
    std::fprintf(stderr,
                 "master_kill_bench: --subscriptions and --keys want positive counts, "
                 "keys at most 6\n");
    return 2;
  }
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);
  std::printf("write interval %s\n\n",
              absl::FormatDuration(absl::GetFlag(FLAGS_write_interval)).c_str());
  std::printf(
      "| subscriptions | keys | round | p50 ms | p99 ms | max ms | never | backend reads "
      "| member cpu s | member rss MB before → peak |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (int n : counts) {
    for (int keys : key_counts) {
      for (int r = 1; r <= absl::GetFlag(FLAGS_rounds); ++r) {
        absl::StatusOr<Round> round = Measure(n, keys);
        if (!round.ok()) {
          std::fprintf(stderr, "master_kill_bench: %s\n", round.status().ToString().c_str());
          return 1;
        }
        std::printf("| %d | %d | %d | %.0f | %.0f | %.0f | %d | %zu | %.1f | %.0f → %.0f |\n", n,
                    keys, r, round->p50_ms, round->p99_ms, round->max_ms, round->never,
                    round->reads, round->cpu_seconds, round->rss_before_kib / 1024.0,
                    round->rss_peak_kib / 1024.0);
        std::fflush(stdout);
        if (csv.is_open()) {
          csv << absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_write_interval)) << "," << n << ","
              << keys << "," << r << "," << round->p50_ms << "," << round->p99_ms << ","
              << round->max_ms << "," << round->never << "," << round->reads << ","
              << round->cpu_seconds << "," << round->rss_before_kib << "," << round->rss_peak_kib
              << "\n";
        }
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace podium::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As in every Podium binary (common/init.cc): no lock-graph bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return podium::bench::Main();
}
