// How long a subscriber goes without updates when its frontend dies.
//
// One backend and three push-mode frontends, real processes on loopback;
// one client of the podium_client library subscribed to one event that a
// writer changes every --write_interval. Each round SIGKILLs the frontend
// the subscription is on, measures the gap from the kill to the first
// update delivered that was written after the kill (a change the writer
// had acknowledged before the kill may still arrive from the dying
// frontend's socket buffer; it does not count), restarts the frontend and
// waits for the client to be back home. Killing the master also costs an
// election, so the rounds that did are reported apart too.
//
//   build/bench/failover_bench [--rounds=20] [--write_interval=10ms]
//                              [--csv=FILE]
//
// Rows of --csv: round,killed_master,gap_ms.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/scoreboard_client.h"
#include "common/auth.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

ABSL_FLAG(int, rounds, 20, "kills to measure");
ABSL_FLAG(absl::Duration, write_interval, absl::Milliseconds(10), "pause between writes");
ABSL_FLAG(std::string, csv, "", "also append round,killed_master,gap_ms rows here");

namespace podium {
namespace {

constexpr char kEvent[] = "boar-hunt";

// What the subscriber received and the writer wrote, with times.
class Timeline {
 public:
  void Delivered(int64_t seq) {
    absl::MutexLock lock(&mu_);
    delivered_.emplace_back(seq, absl::Now());
  }
  void Acked(int64_t seq) {
    absl::MutexLock lock(&mu_);
    acked_ = std::max(acked_, seq);
  }
  int64_t acked() {
    absl::MutexLock lock(&mu_);
    return acked_;
  }
  // Waits up to `timeout` for a delivery of a seq above `seq`; its time.
  std::optional<absl::Time> WaitForDeliveryAbove(int64_t seq, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    std::optional<absl::Time> when;
    auto found = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const auto& [s, t] : delivered_) {
        if (s > seq) {
          when = t;
          return true;
        }
      }
      return false;
    };
    mu_.AwaitWithTimeout(absl::Condition(&found), timeout);
    return when;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<int64_t, absl::Time>> delivered_ ABSL_GUARDED_BY(mu_);
  int64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "failover_bench: %s\n", status.ToString().c_str());
  return 1;
}

struct Stats {
  size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Stats Summarize(std::vector<double> gaps) {
  Stats stats;
  stats.n = gaps.size();
  if (gaps.empty()) return stats;
  std::sort(gaps.begin(), gaps.end());
  stats.p50 = gaps[gaps.size() / 2];
  stats.p99 = gaps[std::min(gaps.size() - 1, gaps.size() * 99 / 100)];
  stats.max = gaps.back();
  return stats;
}

int Main() {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  if (absl::Status s = backend.Start(); !s.ok()) return Fail(s);
  harness::FrontendCluster frontends(dir.path(), backend.address(), 3, "push");
  if (absl::Status s = frontends.StartAll(); !s.ok()) return Fail(s);
  if (absl::Status s =
          frontends.WaitForMaster(frontends.address(frontends.HighestPid()), absl::Seconds(15));
      !s.ok()) {
    return Fail(s);
  }
  std::vector<std::string> seeds;
  for (int i = 0; i < frontends.size(); ++i) seeds.push_back(frontends.address(i));
  absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
      ScoreboardClient::ConnectToFrontends(seeds);
  if (!client.ok()) return Fail(client.status());
  Timeline timeline;
  SubscriptionKeys keys;
  keys.events = {kEvent};
  absl::StatusOr<std::unique_ptr<Subscriber>> subscriber =
      (*client)->Subscribe(keys, [&timeline](const v1::SubscribeUpdate& update) {
        timeline.Delivered(update.change().seq());
      });
  if (!subscriber.ok()) return Fail(subscriber.status());

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto stub = backend.NewStub();
    for (int64_t i = 0; !stop; ++i) {
      grpc::ClientContext context;
      AddBearerToken(&context, harness::BackendProcess::write_token());
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
      v1::RecordScoreRequest request;
      request.set_idempotency_key(absl::StrCat("failover-", i));
      request.set_event(kEvent);
      v1::TeamPoints* points = request.add_points();
      points->set_team("Romans");
      points->set_points(i);
      v1::WriteReply reply;
      if (stub->RecordScore(&context, request, &reply).ok()) {
        timeline.Acked(reply.change().seq());
      }
      absl::SleepFor(absl::GetFlag(FLAGS_write_interval));
    }
  });

  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);
  std::vector<double> all, master, member;
  absl::Status failure;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds) && failure.ok(); ++round) {
    // Settled: at home and receiving.
    const absl::Time settle_by = absl::Now() + absl::Seconds(15);
    while (absl::Now() < settle_by &&
           ((*subscriber)->frontend() != (*client)->home() ||
            !timeline.WaitForDeliveryAbove(timeline.acked(), absl::Seconds(1)))) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    int victim = -1;
    for (int i = 0; i < frontends.size(); ++i) {
      if (frontends.address(i) == (*subscriber)->frontend()) victim = i;
    }
    if (victim < 0) {
      failure = absl::DeadlineExceededError("the subscription did not settle at home");
      break;
    }
    const bool was_master = victim == frontends.HighestPid();
    const int64_t acked = timeline.acked();
    const absl::Time killed = absl::Now();
    frontends.Kill(victim, SIGKILL);
    std::optional<absl::Time> next = timeline.WaitForDeliveryAbove(acked, absl::Seconds(10));
    if (!next.has_value()) {
      failure = absl::DeadlineExceededError(absl::StrCat("round ", round, ": no update in 10s"));
    } else {
      const double gap_ms = absl::ToDoubleMilliseconds(*next - killed);
      all.push_back(gap_ms);
      (was_master ? master : member).push_back(gap_ms);
      if (csv.is_open()) csv << round << "," << was_master << "," << gap_ms << "\n";
    }
    if (absl::Status s = frontends.Start(victim); !s.ok()) failure = s;
  }
  stop = true;
  writer.join();
  if (!failure.ok()) return Fail(failure);

  std::printf("| kills            | rounds | p50 ms | p99 ms | max ms |\n");
  std::printf("|------------------|--------|--------|--------|--------|\n");
  for (const auto& [name, gaps] : {std::pair<const char*, std::vector<double>*>{"all", &all},
                                   {"of a member", &member},
                                   {"of the master", &master}}) {
    const Stats s = Summarize(*gaps);
    std::printf("| %-16s | %6zu | %6.0f | %6.0f | %6.0f |\n", name, s.n, s.p50, s.p99, s.max);
  }
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
