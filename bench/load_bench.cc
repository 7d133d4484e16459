// Load per frontend over time, through the death and revival of one
// frontend (guarantee 8: a new client goes to the least-loaded frontend, a
// dead frontend's clients spread over the survivors, and return to it when
// it revives).
//
// One backend and three push-mode frontends, real processes on loopback.
// --clients clients of the podium_client library join one by one, each
// placed by the library on the least-loaded frontend; each subscribes to
// an event (written --write_rate times a second) and reads a score every
// --read_interval. Every --sample_interval the bench asks each frontend for
// its own `clients` figure (ListFrontends) and computes the rate of reads
// served by it. A third of the way in frontend --victim is SIGKILLed; two
// thirds of the way in it is started again on the same port.
//
// Rows of --csv: t_seconds,frontend,clients,requests_per_s (a dead frontend
// reports 0 clients); rows of --marks: t_seconds,event (kill, revive).
//
//   build/bench/load_bench [--seconds=30] [--clients=30] [--csv=FILE]
//                          [--marks=FILE]
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/scoreboard_client.h"
#include "common/auth.h"
#include "common/channel.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"
#include "podium/v1/scoreboard.grpc.pb.h"

ABSL_FLAG(double, seconds, 30, "measured time; the kill is at 1/3, the revival at 2/3");
ABSL_FLAG(int, clients, 30, "clients, each subscribing and reading");
ABSL_FLAG(absl::Duration, read_interval, absl::Milliseconds(50),
          "pause between one client's reads");
ABSL_FLAG(int, write_rate, 10, "writes per second of the subscribed event");
ABSL_FLAG(absl::Duration, sample_interval, absl::Milliseconds(250),
          "how often each frontend's load is sampled");
ABSL_FLAG(int, victim, 0, "the frontend (0, 1 or 2) that is killed and revived");
ABSL_FLAG(std::string, csv, "", "append t_seconds,frontend,clients,requests_per_s rows here");
ABSL_FLAG(std::string, marks, "", "append t_seconds,event rows (kill, revive) here");

namespace podium {
namespace {

constexpr int kFrontends = 3;
constexpr char kEvent[] = "javelin";

struct Sample {
  double t = 0;
  int64_t clients[kFrontends] = {};
  double requests_per_s[kFrontends] = {};
};

// One frontend's own `clients` figure, or 0 when it does not answer (it is
// dead). Asked of the frontend itself: peers' figures are as old as their
// last heartbeat.
int64_t ClientsOf(v1::Scoreboard::Stub* stub) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
  v1::ListFrontendsReply reply;
  if (!stub->ListFrontends(&context, v1::ListFrontendsRequest(), &reply).ok()) return 0;
  for (const v1::FrontendInfo& info : reply.frontends()) {
    if (info.address() == reply.answered_by()) return info.clients();
  }
  return 0;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
  return 1;
}

int Main() {
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const int victim = absl::GetFlag(FLAGS_victim);
  if (seconds <= 0 || victim < 0 || victim >= kFrontends || absl::GetFlag(FLAGS_clients) < 1) {
    std::fprintf(stderr, "need --seconds > 0, --clients >= 1 and --victim in 0..2\n");
    return 2;
  }
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  harness::FrontendCluster frontends(dir.path(), backend.address(), kFrontends, "push");
  for (absl::Status s : {backend.Start(), frontends.StartAll()}) {
    if (!s.ok()) return Fail(s);
  }
  if (absl::Status s =
          frontends.WaitForMaster(frontends.address(frontends.HighestPid()), absl::Seconds(15));
      !s.ok()) {
    return Fail(s);
  }
  std::map<std::string, int> index;
  std::vector<std::string> addresses;
  for (int i = 0; i < kFrontends; ++i) {
    index[frontends.address(i)] = i;
    addresses.push_back(frontends.address(i));
  }

  // Reads served, per frontend, counted by the clients.
  std::atomic<int64_t> served[kFrontends] = {};
  std::atomic<int64_t> failed_reads{0};
  std::atomic<int64_t> updates{0};
  std::atomic<bool> stop{false};

  // Clients join one at a time, each after the previous one's subscription
  // has had a heartbeat (100 ms) to reach every frontend's figures, so that
  // placement sees the load it is meant to balance.
  std::vector<std::unique_ptr<ScoreboardClient>> clients;
  // Only kept alive until the end, so their type does not matter here.
  std::vector<std::shared_ptr<void>> subscriptions;
  SubscriptionKeys keys;
  keys.events = {kEvent};
  for (int c = 0; c < absl::GetFlag(FLAGS_clients); ++c) {
    absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
        ScoreboardClient::ConnectToFrontends(addresses);
    if (!client.ok()) return Fail(client.status());
    auto subscription =
        (*client)->Subscribe(keys, [&updates](const v1::SubscribeUpdate&) { ++updates; });
    if (!subscription.ok()) return Fail(subscription.status());
    subscriptions.emplace_back(std::move(*subscription));
    clients.push_back(*std::move(client));
    absl::SleepFor(absl::Milliseconds(150));
  }

  std::vector<std::thread> threads;
  for (auto& client : clients) {
    threads.emplace_back([&, client = client.get()] {
      const absl::Duration pause = absl::GetFlag(FLAGS_read_interval);
      while (!stop) {
        if (client->GetScore(kEvent).ok()) {
          // The frontend that answered: the current one once the read
          // returns, a failover retry included. A move between the answer
          // and this line misattributes one read.
          auto it = index.find(client->address());
          if (it != index.end()) ++served[it->second];
        } else {
          ++failed_reads;
        }
        absl::SleepFor(pause);
      }
    });
  }
  threads.emplace_back([&] {
    auto stub = backend.NewStub();
    const absl::Duration pause = absl::Seconds(1) / std::max(1, absl::GetFlag(FLAGS_write_rate));
    for (int64_t i = 0; !stop; ++i) {
      grpc::ClientContext context;
      AddBearerToken(&context, harness::BackendProcess::write_token());
      v1::RecordScoreRequest request;
      request.set_idempotency_key(absl::StrCat("load-", i));
      request.set_event(kEvent);
      v1::TeamPoints* points = request.add_points();
      points->set_team("Gauls");
      points->set_points(i % 1000);
      v1::WriteReply reply;
      stub->RecordScore(&context, request, &reply).IgnoreError();
      absl::SleepFor(pause);
    }
  });

  const absl::Time start = absl::Now();
  const absl::Time kill_at = start + absl::Seconds(seconds / 3);
  const absl::Time revive_at = start + absl::Seconds(2 * seconds / 3);
  const absl::Time end = start + absl::Seconds(seconds);
  std::ofstream marks;
  if (!absl::GetFlag(FLAGS_marks).empty()) marks.open(absl::GetFlag(FLAGS_marks), std::ios::app);
  // The kill and the revival run on their own thread: Start waits for the
  // health check, which must not delay the samples.
  absl::Notification revived;
  absl::Status revive_status;
  double killed_t = 0, revived_t = 0;
  threads.emplace_back([&] {
    absl::SleepFor(kill_at - absl::Now());
    frontends.Kill(victim, SIGKILL);
    killed_t = absl::ToDoubleSeconds(absl::Now() - start);
    absl::SleepFor(revive_at - absl::Now());
    revive_status = frontends.Start(victim);
    revived_t = absl::ToDoubleSeconds(absl::Now() - start);
    revived.Notify();
  });

  // The sampler's own channels, reconnecting fast, so the revived frontend
  // is sampled again as soon as it listens.
  std::vector<std::unique_ptr<v1::Scoreboard::Stub>> stubs;
  for (const std::string& address : addresses) {
    stubs.push_back(
        v1::Scoreboard::NewStub(CreateFastReconnectChannel(address, absl::Milliseconds(100))));
  }
  std::vector<Sample> samples;
  int64_t last_served[kFrontends] = {};
  absl::Time last = start;
  const absl::Duration interval = absl::GetFlag(FLAGS_sample_interval);
  for (absl::Time next = start + interval; next <= end; next += interval) {
    absl::SleepFor(next - absl::Now());
    Sample sample;
    const absl::Time now = absl::Now();
    sample.t = absl::ToDoubleSeconds(now - start);
    const double elapsed = std::max(1e-3, absl::ToDoubleSeconds(now - last));
    last = now;
    for (int i = 0; i < kFrontends; ++i) {
      const int64_t total = served[i].load();
      sample.requests_per_s[i] = (total - last_served[i]) / elapsed;
      last_served[i] = total;
      sample.clients[i] = ClientsOf(stubs[i].get());
    }
    samples.push_back(sample);
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  subscriptions.clear();
  // A client's destructor waits for its picker's home probe to finish;
  // ending them all at once keeps that wait from adding up.
  threads.clear();
  for (auto& client : clients) {
    threads.emplace_back([client = std::move(client)]() mutable { client.reset(); });
  }
  for (std::thread& t : threads) t.join();
  if (!revive_status.ok()) return Fail(revive_status);

  if (!absl::GetFlag(FLAGS_csv).empty()) {
    std::ofstream csv(absl::GetFlag(FLAGS_csv), std::ios::app);
    for (const Sample& s : samples) {
      for (int i = 0; i < kFrontends; ++i) {
        csv << s.t << "," << i << "," << s.clients[i] << "," << s.requests_per_s[i] << "\n";
      }
    }
  }
  if (marks.is_open()) marks << killed_t << ",kill\n" << revived_t << ",revive\n";

  // Per phase: each frontend's clients at the phase's last sample (the
  // settled state) and its mean request rate over the phase.
  const double sample_seconds = absl::ToDoubleSeconds(interval);
  std::printf(
      "killed frontend %d at %.2f s, revived it at %.2f s; %ld reads failed, "
      "%ld updates delivered\n\n",
      victim, killed_t, revived_t, static_cast<long>(failed_reads.load()),
      static_cast<long>(updates.load()));
  std::printf("| phase   | frontend | clients at end | requests/s (mean) |\n");
  std::printf("|---------|----------|----------------|-------------------|\n");
  const struct {
    const char* name;
    double from, to;
  } phases[] = {{"before", 0, killed_t},
                {"killed", killed_t, revived_t},
                {"revived", revived_t, seconds + 1}};
  for (const auto& phase : phases) {
    for (int i = 0; i < kFrontends; ++i) {
      double sum = 0;
      int n = 0;
      int64_t at_end = 0;
      for (const Sample& s : samples) {
        // A sample taken during the kill or the revival belongs to neither
        // side of it.
        if (s.t < phase.from || s.t >= phase.to - sample_seconds) continue;
        sum += s.requests_per_s[i];
        ++n;
        at_end = s.clients[i];
      }
      std::printf("| %-7s | %8d | %14ld | %17.0f |\n", phase.name, i, static_cast<long>(at_end),
                  n > 0 ? sum / n : 0.0);
    }
  }
  return 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return podium::Main();
}
