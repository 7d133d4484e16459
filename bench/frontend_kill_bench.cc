// A dead frontend at scale (issue 12, figure (b)): N subscriptions of the
// podium_client library on one frontend, SIGKILLed while a writer keeps
// changing every key; they fail over to the two others; how long until
// each has its first change written after the kill.
//
// One backend (--verbose=1, so that its log counts the reads it served)
// and three push-mode frontends, real processes on loopback. Every client
// is given all three addresses (as `podium-client --frontends=A,B,C`), but
// the victim starts first and alone, so that every client is placed on
// it; the other two start after it, with higher pids, so one of them is
// master and the kill is of a member: the survivors' work is the
// resubscriptions, not an election. The subscriptions live in this
// process (bench/kill_subscriptions.h): --clients instances of
// ScoreboardClient (each with its own picker, channels and keep-alives, as
// each fan's app has), subscription i on client i % clients, wanting event
// i % K of the games' first K events. Each round: fresh processes, every
// subscription snapshotted, writes to every key each --write_interval, the
// kill after 2 s of writing, 10 s more of writing. Per round:
//   p50/p99/max  from the kill to each subscription's first update with a
//                seq above the backend's once the victim is gone (so
//                written after the kill)
//   never        subscriptions without one within 30 s
//   reads        ChangesSince, GetEvent and GetMedals calls the backend
//                served from the kill to the end of the round (its log):
//                10 s after the kill, or later when the wait for every
//                subscription's first update (30 s at most) took longer
//   cpu          the survivors' user+system seconds over the same time,
//                together, and this process's (the clients')
//   rss          each survivor's resident memory before the kill and its
//                peak after (sampled every 50 ms)
//   spread       subscriptions on each survivor at the end
//
//   build/bench/frontend_kill_bench [--subscriptions=1000,10000] [--keys=1,6]
//                                   [--harness=client|fleet] [--clients=100]
//                                   [--write_interval=200ms]
//                                   [--rounds=3] [--csv=FILE]
//
// With --harness=fleet the subscriptions are async-API streams instead
// (harness::SubscriberFleet, 64 connections): at the kill each is opened
// again at once on a survivor, alternately, with after_seq its last seq,
// which is what the library does, without the library's own work in
// this process (its filter, its failover and its delivery threads).
//
// Rows of --csv: interval_ms,subscriptions,keys,round,p50_ms,p99_ms,max_ms,
// never,reads,cpu_s,client_cpu_s,rss_before_kib,rss_peak_kib (the larger
// survivor growth's pair),on_a,on_b,harness.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backend/games.h"
#include "bench/kill_subscriptions.h"
#include "bench/measurements.h"
#include "bench/paced_writer.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

ABSL_FLAG(std::string, subscriptions, "1000,10000", "subscription counts to measure");
ABSL_FLAG(std::string, keys, "1,6", "key counts to measure (subscription i wants key i % K)");
ABSL_FLAG(std::string, harness, "client",
          "client: podium_client subscriptions that fail over by themselves; fleet: async-API "
          "streams opened again at the survivors at the kill");
ABSL_FLAG(int, clients, 100, "ScoreboardClient instances the subscriptions are spread over");
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
  double cpu_seconds = 0, client_cpu_seconds = 0;
  int64_t rss_before_kib = 0, rss_peak_kib = 0;  // of the survivor that grew most
  int on_a = 0, on_b = 0;
};

absl::Status WaitUntil(const std::function<bool()>& done, absl::Duration timeout,
                       const std::string& what) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, " within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::OkStatus();
}

absl::StatusOr<Round> Measure(int subscriptions, int keys, int client_count) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path(), {"--verbose=1"});
  if (absl::Status s = backend.Start(); !s.ok()) return s;
  harness::FrontendCluster frontends(dir.path(), backend.address(), 3, "push");
  constexpr int kVictim = 0;
  if (absl::Status s = frontends.Start(kVictim); !s.ok()) return s;
  if (absl::Status s = frontends.WaitForMaster(frontends.address(kVictim), absl::Seconds(15));
      !s.ok()) {
    return s;
  }
  PacedWriter writer(backend.NewStub(), harness::BackendProcess::write_token(),
                     std::vector<std::string>(Events().begin(), Events().begin() + keys),
                     absl::GetFlag(FLAGS_write_interval));
  writer.WriteEach();

  std::unique_ptr<KillSubscriptions> harness;
  if (absl::GetFlag(FLAGS_harness) == "fleet") {
    harness =
        NewFleetSubscriptions(frontends.address(kVictim),
                              std::vector<std::string>{frontends.address(1), frontends.address(2)});
  } else {
    harness = NewClientSubscriptions(
        std::vector<std::string>{frontends.address(0), frontends.address(1), frontends.address(2)},
        subscriptions, client_count);
  }
  for (int i = 0; i < subscriptions; ++i) {
    if (absl::Status s = harness->Open(i, Events()[i % keys]); !s.ok()) return s;
  }
  absl::Status broken;
  if (absl::Status s = WaitUntil(
          [&] {
            absl::StatusOr<bool> all = harness->AllSnapshotted();
            if (!all.ok()) broken = all.status();
            return !all.ok() || *all;
          },
          absl::Seconds(120), "every subscription's snapshot");
      !s.ok()) {
    return s;
  }
  if (!broken.ok()) return broken;

  // The survivors join; the higher of their pids is master.
  for (int i : {1, 2}) {
    if (absl::Status s = frontends.Start(i); !s.ok()) return s;
  }
  if (absl::Status s =
          frontends.WaitForMaster(frontends.address(frontends.HighestPid()), absl::Seconds(15));
      !s.ok()) {
    return s;
  }
  if (frontends.HighestPid() == kVictim) {
    // Pids wrapped around (a round of 10,000 subscriptions uses as many
    // threads): the victim is master, and its kill would cost an election.
    return absl::AbortedError("the victim has the highest pid");
  }
  writer.Start();
  absl::SleepFor(absl::Seconds(2));
  for (int i = 0; i < subscriptions; ++i) {
    if (harness->FrontendOf(i) != frontends.address(kVictim)) {
      return absl::FailedPreconditionError(
          absl::StrCat("subscription ", i, " is on ", harness->FrontendOf(i),
                       ", not on the victim ", frontends.address(kVictim), " before the kill"));
    }
  }
  const pid_t survivor[2] = {frontends.pid(1), frontends.pid(2)};
  const ProcessSample before[2] = {SampleProcess(survivor[0]), SampleProcess(survivor[1])};
  const ProcessSample client_before = SampleProcess(getpid());
  int64_t peak_kib[2] = {before[0].rss_kib, before[1].rss_kib};
  auto sample_peaks = [&] {
    for (int s = 0; s < 2; ++s) {
      peak_kib[s] = std::max(peak_kib[s], SampleProcess(survivor[s]).rss_kib);
    }
  };
  const size_t reads_before = BackendReads(backend.log());
  harness->BeforeKill();
  const absl::Time killed = absl::Now();
  frontends.Kill(kVictim, SIGKILL);  // returns once the victim is reaped
  absl::StatusOr<int64_t> kill_seq = writer.LatestSeq();
  if (!kill_seq.ok()) return kill_seq.status();
  harness->AfterKill(*kill_seq);

  // Wait until every subscription has a post-kill update, up to 30 s,
  // sampling the survivors' memory meanwhile.
  auto all_caught_up = [&] {
    sample_peaks();
    for (int i = 0; i < subscriptions; ++i) {
      if (harness->FirstAboveNs(i) == 0) return false;
    }
    return true;
  };
  WaitUntil(all_caught_up, absl::Seconds(30), "").IgnoreError();  // "never" counts them
  // Ten seconds of writing after the kill in all, for the reads and CPU.
  while (absl::Now() < killed + absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(50));
    sample_peaks();
  }
  writer.Stop();

  Round round;
  const ProcessSample after[2] = {SampleProcess(survivor[0]), SampleProcess(survivor[1])};
  round.cpu_seconds =
      after[0].cpu_seconds - before[0].cpu_seconds + after[1].cpu_seconds - before[1].cpu_seconds;
  round.client_cpu_seconds = SampleProcess(getpid()).cpu_seconds - client_before.cpu_seconds;
  const int grew = peak_kib[0] - before[0].rss_kib >= peak_kib[1] - before[1].rss_kib ? 0 : 1;
  round.rss_before_kib = before[grew].rss_kib;
  round.rss_peak_kib = peak_kib[grew];
  round.reads = BackendReads(backend.log()) - reads_before;
  for (int i = 0; i < subscriptions; ++i) {
    const std::string on = harness->FrontendOf(i);
    if (on == frontends.address(1)) ++round.on_a;
    if (on == frontends.address(2)) ++round.on_b;
  }
  std::vector<double> got;
  for (int i = 0; i < subscriptions; ++i) {
    const int64_t at = harness->FirstAboveNs(i);
    if (at == 0) {
      ++round.never;
    } else {
      got.push_back(absl::ToDoubleMilliseconds(absl::FromUnixNanos(at) - killed));
    }
  }
  round.p50_ms = Percentile(got, 0.5);
  round.p99_ms = Percentile(got, 0.99);
  round.max_ms = Percentile(got, 1.0);
  return round;
}

int Main() {
  const std::vector<int> counts = ParseCounts(absl::GetFlag(FLAGS_subscriptions));
  const std::vector<int> key_counts = ParseCounts(absl::GetFlag(FLAGS_keys));
  const int client_count = absl::GetFlag(FLAGS_clients);
  const std::string harness = absl::GetFlag(FLAGS_harness);
  if (harness != "client" && harness != "fleet") {
    std::fprintf(stderr, "frontend_kill_bench: --harness is client or fleet, not '%s'\n",
                 harness.c_str());
    return 2;
  }
  if (counts.empty() || key_counts.empty() || client_count < 1 ||
      *std::max_element(key_counts.begin(), key_counts.end()) > static_cast<int>(Events().size())) {
    std::fprintf(stderr,
                 "frontend_kill_bench: --subscriptions and --keys want positive counts, "
                 "keys at most 6; --clients at least 1\n");
    return 2;
  }
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);
  if (harness == "client") {
    std::printf("write interval %s, podium_client subscriptions over up to %d clients\n\n",
                absl::FormatDuration(absl::GetFlag(FLAGS_write_interval)).c_str(), client_count);
  } else {
    std::printf("write interval %s, async-API streams reopened at the survivors\n\n",
                absl::FormatDuration(absl::GetFlag(FLAGS_write_interval)).c_str());
  }
  std::printf(
      "| subscriptions | keys | round | p50 ms | p99 ms | max ms | never | backend reads "
      "| survivors' cpu s | clients' cpu s | survivor rss MB before → peak | on each survivor |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int n : counts) {
    for (int keys : key_counts) {
      for (int r = 1; r <= absl::GetFlag(FLAGS_rounds); ++r) {
        absl::StatusOr<Round> round = Measure(n, keys, std::min(n, client_count));
        // A round whose victim came out master is set up again, with
        // fresh processes (and pids past the wrap).
        for (int retry = 0; retry < 3 && absl::IsAborted(round.status()); ++retry) {
          std::fprintf(stderr, "frontend_kill_bench: %s; setting the round up again\n",
                       round.status().ToString().c_str());
          round = Measure(n, keys, std::min(n, client_count));
        }
        if (!round.ok()) {
          std::fprintf(stderr, "frontend_kill_bench: %s\n", round.status().ToString().c_str());
          return 1;
        }
        std::printf(
            "| %d | %d | %d | %.0f | %.0f | %.0f | %d | %zu | %.1f | %.1f | %.0f → %.0f | %d / "
            "%d |\n",
            n, keys, r, round->p50_ms, round->p99_ms, round->max_ms, round->never, round->reads,
            round->cpu_seconds, round->client_cpu_seconds, round->rss_before_kib / 1024.0,
            round->rss_peak_kib / 1024.0, round->on_a, round->on_b);
        std::fflush(stdout);
        if (csv.is_open()) {
          csv << absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_write_interval)) << "," << n << ","
              << keys << "," << r << "," << round->p50_ms << "," << round->p99_ms << ","
              << round->max_ms << "," << round->never << "," << round->reads << ","
              << round->cpu_seconds << "," << round->client_cpu_seconds << ","
              << round->rss_before_kib << "," << round->rss_peak_kib << "," << round->on_a << ","
              << round->on_b << "," << absl::GetFlag(FLAGS_harness) << "\n";
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
