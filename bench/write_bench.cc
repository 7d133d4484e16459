// Durable write throughput: acknowledged AwardMedal writes per second with
// 1, 8 and 32 concurrent writers, each write fsync'd before its ack.
//
// Two layers are measured in the same run so the gRPC cost is visible:
//   grpc   a real podium-backend process, writers on one channel over loopback
//   store  SqliteStore in this process, writers calling it directly
//
//   build/bench/write_bench [--seconds=5] [--writers=1,8,32] [--csv=FILE]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "backend/sqlite_store.h"
#include "common/auth.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

ABSL_FLAG(double, seconds, 5, "measuring time per configuration");
ABSL_FLAG(std::string, writers, "1,8,32", "concurrent writer counts");
ABSL_FLAG(std::string, csv, "", "also append rows to this CSV file");

namespace podium {
namespace {

struct Result {
  int64_t writes = 0;
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

v1::AwardMedalRequest Award(int writer, int64_t i) {
  static const char* kTeams[] = {"Gauls", "Romans", "Britons", "Egyptians"};
  v1::AwardMedalRequest request;
  request.set_idempotency_key(absl::StrCat("bench-", writer, "-", i));
  request.set_team(kTeams[i % 4]);
  request.set_medal(static_cast<v1::Medal>(1 + i % 3));
  return request;
}

// Runs `writers` threads calling write(writer, i) until the time is up.
template <typename WriteFn>
Result Measure(int writers, absl::Duration duration, WriteFn write) {
  std::vector<std::vector<double>> latencies(writers);
  std::vector<std::thread> threads;
  std::atomic<bool> failed{false};
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int64_t i = 0; absl::Now() < end; ++i) {
        const absl::Time t0 = absl::Now();
        if (!write(w, i)) {
          failed = true;
          return;
        }
        latencies[w].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Result result;
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  result.writes = static_cast<int64_t>(all.size());
  if (failed) std::fprintf(stderr, "a write failed; figures are partial\n");
  if (!all.empty()) {
    std::sort(all.begin(), all.end());
    result.p50_ms = all[all.size() / 2];
    result.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return result;
}

void Report(const char* layer, int writers, const Result& r, std::ofstream* csv) {
  const double rate = r.writes / r.seconds;
  std::printf("| %-5s | %7d | %10.0f | %8.3f | %8.3f |\n", layer, writers, rate, r.p50_ms,
              r.p99_ms);
  std::fflush(stdout);
  if (csv->is_open()) {
    *csv << layer << "," << writers << "," << static_cast<int64_t>(rate) << "," << r.p50_ms << ","
         << r.p99_ms << "\n";
  }
}

int Main() {
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::vector<int> counts;
  for (absl::string_view n : absl::StrSplit(absl::GetFlag(FLAGS_writers), ',')) {
    counts.push_back(std::stoi(std::string(n)));
  }
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) {
    csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);
  }
  std::printf("| layer | writers | writes/s   | p50 ms   | p99 ms   |\n");
  std::printf("|-------|---------|------------|----------|----------|\n");

  for (int writers : counts) {
    harness::ScopedTempDir dir;
    harness::BackendProcess backend(dir.path());
    if (absl::Status s = backend.Start(); !s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
    auto channel = grpc::CreateChannel(backend.address(), grpc::InsecureChannelCredentials());
    auto stub = v1::Backend::NewStub(channel);
    Result r = Measure(writers, duration, [&](int w, int64_t i) {
      grpc::ClientContext context;
      AddBearerToken(&context, harness::BackendProcess::write_token());
      v1::WriteReply reply;
      return stub->AwardMedal(&context, Award(w, i), &reply).ok();
    });
    Report("grpc", writers, r, &csv);
  }
  for (int writers : counts) {
    harness::ScopedTempDir dir;
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(dir.path() + "/bench.db", Games::Default());
    if (!store.ok()) return 1;
    Result r = Measure(writers, duration,
                       [&](int w, int64_t i) { return (*store)->AwardMedal(Award(w, i)).ok(); });
    Report("store", writers, r, &csv);
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
