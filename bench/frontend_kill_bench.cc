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
// resubscriptions, not an election. The subscriptions live in this process: --clients instances of
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
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "backend/games.h"
#include "bench/measurements.h"
#include "bench/paced_writer.h"
#include "client/scoreboard_client.h"
#include "harness/cluster.h"
#include "harness/subscriber_fleet.h"
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

// The subscriptions under test, and how they move when the victim dies.
class Harness {
 public:
  virtual ~Harness() = default;
  // Opens subscription i, of `event`, at the victim.
  virtual absl::Status Open(int i, const std::string& event) = 0;
  // Whether every subscription has had its snapshot; an error when one
  // cannot get it any more.
  virtual absl::StatusOr<bool> AllSnapshotted() const = 0;
  // Just before the kill: what the subscriptions receive from here on is
  // kept.
  virtual void BeforeKill() {}
  // Once the victim is reaped: the backend's seq then, which "written after
  // the kill" is above.
  virtual void AfterKill(int64_t kill_seq) = 0;
  // When subscription i first had an update above the kill's seq, Unix
  // ns; 0 while it has none.
  virtual int64_t FirstAboveNs(int i) const = 0;
  // The frontend subscription i is on now.
  virtual std::string FrontendOf(int i) const = 0;
};

// podium_client subscriptions over `clients` ScoreboardClients, given all
// three frontends; they notice the kill and fail over by themselves.
class ClientHarness : public Harness {
 public:
  ClientHarness(std::vector<std::string> frontends, int subscriptions, int clients)
      : frontends_(std::move(frontends)),
        client_count_(clients),
        probes_(static_cast<size_t>(subscriptions)) {}
  ~ClientHarness() override { subscribers_.clear(); }  // before the probes

  absl::Status Open(int i, const std::string& event) override {
    if (clients_.empty()) {
      for (int c = 0; c < client_count_; ++c) {
        absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
            ScoreboardClient::ConnectToFrontends(frontends_);
        if (!client.ok()) return client.status();
        clients_.push_back(*std::move(client));
      }
    }
    SubscriptionKeys wanted;
    wanted.events = {event};
    Probe* probe = &probes_[i];
    const std::atomic<bool>* recording = &recording_;
    absl::StatusOr<std::unique_ptr<Subscriber>> subscriber = clients_[i % client_count_]->Subscribe(
        wanted, [probe, recording](const v1::SubscribeUpdate& update) {
          if (update.snapshot()) probe->snapshotted = true;
          if (!recording->load()) return;
          absl::MutexLock lock(&probe->mu);
          if (probe->receipts.size() < kReceiptsKept) {
            probe->receipts.push_back({update.change().seq(), absl::ToUnixNanos(absl::Now())});
          }
        });
    if (!subscriber.ok()) return subscriber.status();
    subscribers_.push_back(*std::move(subscriber));
    return absl::OkStatus();
  }
  absl::StatusOr<bool> AllSnapshotted() const override {
    return std::all_of(probes_.begin(), probes_.end(),
                       [](const Probe& p) { return p.snapshotted.load(); });
  }
  void BeforeKill() override { recording_ = true; }
  void AfterKill(int64_t kill_seq) override { kill_seq_ = kill_seq; }
  int64_t FirstAboveNs(int i) const override {
    const Probe& probe = probes_[i];
    absl::MutexLock lock(&probe.mu);
    for (const auto& [seq, ns] : probe.receipts) {
      if (seq > kill_seq_.load()) return ns;
    }
    return 0;
  }
  std::string FrontendOf(int i) const override { return subscribers_[i]->frontend(); }

 private:
  // Enough for the first after the kill: it comes within a few writes.
  static constexpr size_t kReceiptsKept = 256;
  struct Probe {
    std::atomic<bool> snapshotted{false};
    mutable absl::Mutex mu;
    std::vector<std::pair<int64_t, int64_t>> receipts ABSL_GUARDED_BY(mu);  // seq, Unix ns
  };
  const std::vector<std::string> frontends_;
  const int client_count_;
  std::atomic<bool> recording_{false};
  std::atomic<int64_t> kill_seq_{INT64_MAX};
  std::vector<Probe> probes_;
  std::vector<std::unique_ptr<ScoreboardClient>> clients_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
};

// Subscribe streams on gRPC's async API (harness::SubscriberFleet, light
// enough that the frontends, not this process, are the bottleneck). At the
// kill each stream is opened again at once on a survivor, alternately,
// with after_seq the last seq it had received, as the client library
// would; the survivors' side of a failover without the library's cost.
class FleetHarness : public Harness {
 public:
  FleetHarness(std::string victim, std::vector<std::string> survivors)
      : victim_address_(victim),
        survivors_(std::move(survivors)),
        victim_(std::make_unique<harness::SubscriberFleet>(
            victim, harness::SubscriberFleet::Options{/*channels=*/64, /*queues=*/16})) {
    for (const std::string& survivor : survivors_) {
      moved_.push_back(std::make_unique<harness::SubscriberFleet>(
          survivor, harness::SubscriberFleet::Options{/*channels=*/32, /*queues=*/8}));
    }
  }
  absl::Status Open(int, const std::string& event) override {
    v1::SubscribeRequest request;
    request.add_events(event);
    requests_.push_back(request);
    victim_->Add(request);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> AllSnapshotted() const override {
    const absl::Status status = victim_->WaitForSnapshots(absl::ZeroDuration());
    if (absl::IsDeadlineExceeded(status)) return false;  // not yet
    if (!status.ok()) return status;
    return true;
  }
  void AfterKill(int64_t kill_seq) override {
    kill_seq_ = kill_seq;
    moved_yet_ = true;
    for (size_t i = 0; i < requests_.size(); ++i) {
      v1::SubscribeRequest request = requests_[i];
      for (const harness::Receipt& r : victim_->receipts(static_cast<int>(i))) {
        request.set_after_seq(std::max(request.after_seq(), r.seq));
      }
      moved_[i % moved_.size()]->Add(request);
    }
  }
  int64_t FirstAboveNs(int i) const override {
    const absl::Time at =
        moved_[i % moved_.size()]->FirstAbove(i / static_cast<int>(moved_.size()), kill_seq_);
    return at == absl::InfiniteFuture() ? 0 : absl::ToUnixNanos(at);
  }
  std::string FrontendOf(int i) const override {
    return moved_yet_ ? survivors_[i % survivors_.size()] : victim_address_;
  }

 private:
  const std::string victim_address_;
  const std::vector<std::string> survivors_;
  std::unique_ptr<harness::SubscriberFleet> victim_;
  std::vector<std::unique_ptr<harness::SubscriberFleet>> moved_;
  std::vector<v1::SubscribeRequest> requests_;
  int64_t kill_seq_ = 0;
  bool moved_yet_ = false;
};

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

  std::unique_ptr<Harness> harness;
  if (absl::GetFlag(FLAGS_harness) == "fleet") {
    harness = std::make_unique<FleetHarness>(
        frontends.address(kVictim),
        std::vector<std::string>{frontends.address(1), frontends.address(2)});
  } else {
    harness = std::make_unique<ClientHarness>(
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
