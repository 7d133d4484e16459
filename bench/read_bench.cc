// Cached GetScore throughput and latency through a frontend, against a
// bare gRPC server answering the same message with the same (synchronous)
// threading model, measured in the same run on the same machine.
//
// Targets, each a separate process on loopback:
//   reference  this binary in --reference_listen mode: GetScore returns a
//              fixed EventScore; no cache, no locks, no backend
//   hit        podium-frontend --cache=push, every read a cache hit
//   miss       podium-frontend --cache=off, every read goes to the backend
//
//   build/bench/read_bench [--seconds=1] [--rounds=5] [--callers=1,4,16,64]
//                          [--csv=FILE]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/server.h"
#include "podium/v1/scoreboard.grpc.pb.h"
#include "tests/testing/cluster.h"
#include "tests/testing/temp_dir.h"

ABSL_FLAG(double, seconds, 1, "measuring time per target, per round");
ABSL_FLAG(int, rounds, 5,
          "rounds alternating the targets; each figure is the median round, "
          "so load that drifts during the run hits all targets alike");
ABSL_FLAG(std::string, callers, "1,4,16,64", "concurrent caller counts");
ABSL_FLAG(std::string, csv, "", "also append rows to this CSV file");
ABSL_FLAG(std::string, reference_listen, "",
          "internal: serve the reference Scoreboard on this address");

namespace podium {
namespace {

constexpr char kEvent[] = "menhir-put";

// The reference: answers GetScore with a constant of the same shape and
// size as the frontend's answer.
class ReferenceScoreboard final : public v1::Scoreboard::Service {
 public:
  explicit ReferenceScoreboard(v1::EventScore score) : score_(std::move(score)) {}
  grpc::Status GetScore(grpc::ServerContext*, const v1::GetScoreRequest*,
                        v1::EventScore* reply) override {
    *reply = score_;
    return grpc::Status::OK;
  }

 private:
  const v1::EventScore score_;
};

v1::EventScore SampleScore() {
  v1::EventScore score;
  score.set_event(kEvent);
  for (const char* team : {"Gauls", "Romans", "Britons", "Egyptians"}) {
    v1::TeamPoints* p = score.add_points();
    p->set_team(team);
    p->set_points(3);
  }
  score.set_status(v1::LIVE);
  score.set_version(1);
  score.set_updated_unix_micros(absl::ToUnixMicros(absl::Now()));
  return score;
}

int ServeReference(const std::string& address) {
  BlockTerminationSignals();
  ReferenceScoreboard service(SampleScore());
  absl::StatusOr<std::unique_ptr<grpc::Server>> server = StartServer(address, {&service});
  if (!server.ok()) return 1;
  WaitForTerminationSignal();
  ShutdownServer(server->get(), absl::Seconds(1));
  return 0;
}

struct Result {
  double calls_per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
};

Result Measure(const std::string& address, int callers, absl::Duration duration) {
  std::vector<std::unique_ptr<v1::Scoreboard::Stub>> stubs;
  for (int c = 0; c < callers; ++c) {
    stubs.push_back(v1::Scoreboard::NewStub(CreateFastReconnectChannel(address)));
  }
  // Warm every connection (and the cache) before the clock starts.
  for (auto& stub : stubs) {
    grpc::ClientContext context;
    v1::GetScoreRequest request;
    request.set_event(kEvent);
    v1::EventScore score;
    stub->GetScore(&context, request, &score);
  }
  std::vector<std::vector<double>> latencies(callers);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      v1::GetScoreRequest request;
      request.set_event(kEvent);
      v1::EventScore score;
      while (absl::Now() < end) {
        grpc::ClientContext context;
        const absl::Time t0 = absl::Now();
        if (!stubs[c]->GetScore(&context, request, &score).ok()) return;
        latencies[c].push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Result result;
  if (all.empty()) return result;
  std::sort(all.begin(), all.end());
  result.calls_per_second = all.size() / seconds;
  result.p50_us = all[all.size() / 2];
  result.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return result;
}

int Main(const char* self) {
  std::vector<int> counts;
  for (absl::string_view n : absl::StrSplit(absl::GetFlag(FLAGS_callers), ',')) {
    counts.push_back(std::stoi(std::string(n)));
  }
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  test::ScopedTempDir dir;
  test::BackendProcess backend(dir.path());
  if (absl::Status s = backend.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  test::FrontendCluster cached(dir.path() + "", backend.address(), 1, "push");
  test::ScopedTempDir off_dir;
  test::FrontendCluster uncached(off_dir.path(), backend.address(), 1, "off");
  const std::string reference = absl::StrCat("127.0.0.1:", test::PickFreePort());
  absl::StatusOr<test::Subprocess> reference_server = test::StartHealthy(
      {self, "--reference_listen=" + reference}, dir.path() + "/reference.log", reference);
  for (absl::Status s : {cached.StartAll(), uncached.StartAll(), reference_server.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);

  std::printf("| callers | target    | calls/s  | p50 us  | p99 us  | vs reference |\n");
  std::printf("|---------|-----------|----------|---------|---------|--------------|\n");
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"reference", reference}, {"hit", cached.address(0)}, {"miss", uncached.address(0)}};
  for (int callers : counts) {
    std::map<std::string, std::vector<Result>> rounds;
    for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
      for (const auto& [name, address] : targets) {
        rounds[name].push_back(Measure(address, callers, duration));
      }
    }
    std::map<std::string, Result> results;
    for (auto& [name, all] : rounds) {
      std::sort(all.begin(), all.end(), [](const Result& a, const Result& b) {
        return a.calls_per_second < b.calls_per_second;
      });
      results[name] = all[all.size() / 2];
    }
    for (const auto& [name, address] : targets) {
      const Result& r = results[name];
      const double ratio = r.calls_per_second / results["reference"].calls_per_second;
      std::printf("| %7d | %-9s | %8.0f | %7.1f | %7.1f | %11.0f%% |\n", callers,
                  name.c_str(), r.calls_per_second, r.p50_us, r.p99_us, 100 * ratio);
      std::fflush(stdout);
      if (csv.is_open()) {
        csv << callers << "," << name << "," << static_cast<int64_t>(r.calls_per_second)
            << "," << r.p50_us << "," << r.p99_us << "," << ratio << "\n";
      }
    }
  }
  reference_server->Kill(SIGTERM);
  return 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As in every Podium binary (common/init.cc): no lock-graph bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!absl::GetFlag(FLAGS_reference_listen).empty()) {
    return podium::ServeReference(absl::GetFlag(FLAGS_reference_listen));
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return 1;
  self[n] = '\0';
  return podium::Main(self);
}
