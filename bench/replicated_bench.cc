// The replicated store (issue 14 item 8), in one run:
//
//  writes   durable writes/s and p50/p99 at each writer count through a
//           podium-backend on SQLite ("sqlite"), through one on a 3-member
//           etcd cluster ("etcd"), and straight into that cluster with
//           transactions of the same two puts, same sizes, without
//           Podium's compares ("raw_etcd"), alternating per writer count.
//  failover one writer acknowledging writes through two backends over etcd
//           (a list, as the bard has it), each write retried under its key
//           until acknowledged: the time from a SIGKILL to the next
//           acknowledged write, for a backend (alternately each) and for
//           etcd's leader, each restarted (and a backend given a second
//           for the writer to reconnect to it) before the next kill.
//
//   build/bench/replicated_bench [--writers=1,8,32,64] [--seconds=3]
//       [--kills=20] [--games=FILE] [--csv=FILE] [--failover_csv=FILE]
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "backend/etcd_client.h"
#include "backend/games.h"
#include "bench/measurements.h"
#include "common/auth.h"
#include "common/channel.h"
#include "harness/cluster.h"
#include "harness/etcd_cluster.h"
#include "harness/temp_dir.h"
#include "podium/store/etcd_records.pb.h"

ABSL_FLAG(std::string, writers, "1,8,32,64", "concurrent writer counts");
ABSL_FLAG(double, seconds, 3, "measuring time per layer and writer count");
ABSL_FLAG(int, kills, 20, "SIGKILLs of each kind (backend, etcd leader); 0: no failover part");
ABSL_FLAG(std::string, csv, "",
          "append write rows (layer,games,writers,writes_per_s,p50_ms,p99_ms,etcd_cpu_ms; "
          "games: 'day' for the built-in one, else the file's name without .games; "
          "etcd_cpu_ms: the etcd members' CPU time per write, 0 for sqlite)");
ABSL_FLAG(std::string, failover_csv, "", "append failover rows (kind,round,resume_ms)");
ABSL_FLAG(std::string, games, "",
          "the backends' games file (e.g. games/paris2024.games: 206 teams); the writes "
          "spread over its teams. Empty: the built-in day's 4 teams, where a backend's "
          "writes of one tally follow each other");

namespace podium {
namespace {

// The teams the writes go to, round robin.
std::vector<std::string>& Teams() {
  static std::vector<std::string> teams;
  return teams;
}

v1::AwardMedalRequest Award(const std::string& key, int64_t i) {
  v1::AwardMedalRequest request;
  request.set_idempotency_key(key);
  request.set_team(Teams()[i % Teams().size()]);
  request.set_medal(static_cast<v1::Medal>(1 + i % 3));
  return request;
}

// The games flags for a backend.
std::vector<std::string> GamesFlags(std::vector<std::string> flags) {
  if (!absl::GetFlag(FLAGS_games).empty()) flags.push_back("--games=" + absl::GetFlag(FLAGS_games));
  return flags;
}

grpc::Status Write(v1::Backend::Stub* stub, const v1::AwardMedalRequest& request,
                   absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  AddBearerToken(&context, harness::BackendProcess::write_token());
  v1::WriteReply reply;
  return stub->AwardMedal(&context, request, &reply);
}

struct Result {
  double rate = 0, p50_ms = 0, p99_ms = 0;
  int64_t writes = 0;  // answered, ok or not
  bool failed = false;
};

// `writers` threads calling write(writer, i) for `duration`.
template <typename WriteFn>
Result Measure(int writers, absl::Duration duration, WriteFn write) {
  std::vector<std::vector<double>> latencies(writers);
  std::vector<std::thread> threads;
  std::atomic<bool> failed{false};
  const absl::Time start = absl::Now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int64_t i = 0; absl::Now() < start + duration && !failed; ++i) {
        const absl::Time t0 = absl::Now();
        if (!write(w, i)) failed = true;
        latencies[w].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Result r;
  r.writes = static_cast<int64_t>(all.size());
  r.rate = all.size() / absl::ToDoubleSeconds(absl::Now() - start);
  r.p50_ms = bench::Percentile(all, 0.5);
  r.p99_ms = bench::Percentile(all, 0.99);
  r.failed = failed;
  return r;
}

// Raw etcd: the two puts a Podium write makes (its value, its idempotency
// record), of the same sizes, in one transaction, without the compares.
class RawEtcdWriter {
 public:
  explicit RawEtcdWriter(EtcdClient* etcd) : etcd_(etcd) {
    v1::Change value;
    value.mutable_medals()->set_team("Egyptians");
    value.mutable_medals()->set_gold(123);
    value.mutable_medals()->set_silver(45);
    value.mutable_medals()->set_bronze(67);
    value.mutable_medals()->set_updated_unix_micros(absl::ToUnixMicros(absl::Now()));
    value_ = value.SerializeAsString();
    store::AppliedWrite record;
    record.set_fingerprint(0x5eed5eed5eed5eedLL);
    *record.mutable_change() = value;
    record_ = record.SerializeAsString();
  }
  bool Write(int writer, int64_t i) {
    etcdserverpb::TxnRequest txn;
    etcdserverpb::PutRequest* value = txn.add_success()->mutable_request_put();
    value->set_key(absl::StrCat("/raw/kv/team:", i % Teams().size()));
    value->set_value(value_);
    etcdserverpb::PutRequest* record = txn.add_success()->mutable_request_put();
    record->set_key(absl::StrCat("/raw/applied/bench-", writer, "-", i));
    record->set_value(record_);
    etcdserverpb::TxnResponse response;
    return etcd_->Txn(txn, &response).ok();
  }

 private:
  EtcdClient* etcd_;
  std::string value_, record_;
};

// `etcd_cpu_ms`: the etcd members' CPU time per write (0: not measured).
void Row(std::ofstream* csv, const char* layer, int writers, const Result& r,
         double etcd_cpu_ms = 0) {
  std::printf("| %-8s | %7d | %10.0f | %8.3f | %8.3f |%s\n", layer, writers, r.rate, r.p50_ms,
              r.p99_ms, r.failed ? " (a write failed)" : "");
  std::fflush(stdout);
  if (csv->is_open()) {
    std::string games = std::filesystem::path(absl::GetFlag(FLAGS_games)).stem().string();
    if (games.empty()) games = "day";
    *csv << layer << "," << games << "," << writers << "," << static_cast<int64_t>(r.rate) << ","
         << r.p50_ms << "," << r.p99_ms << "," << etcd_cpu_ms << "\n";
  }
}

absl::StatusOr<std::unique_ptr<harness::BackendProcess>> StartBackend(
    const std::string& dir, std::vector<std::string> flags) {
  std::filesystem::create_directories(dir);
  auto backend = std::make_unique<harness::BackendProcess>(dir, std::move(flags));
  if (absl::Status s = backend->Start(); !s.ok()) return s;
  return backend;
}

int Writes(const std::vector<int>& counts, absl::Duration duration) {
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);
  std::printf("writes over %zu teams\n\n", Teams().size());
  std::printf("| layer    | writers | writes/s   | p50 ms   | p99 ms   |\n");
  std::printf("|----------|---------|------------|----------|----------|\n");
  for (int writers : counts) {
    harness::ScopedTempDir dir;
    absl::StatusOr<std::unique_ptr<harness::EtcdCluster>> etcd =
        harness::EtcdCluster::Start(3, dir.path() + "/etcd");
    if (!etcd.ok()) {
      std::fprintf(stderr, "%s\n", std::string(etcd.status().message()).c_str());
      return 1;
    }
    auto sqlite = StartBackend(dir.path() + "/sqlite", GamesFlags({}));
    auto replicated = StartBackend(dir.path() + "/etcd-backend",
                                   GamesFlags({"--store=etcd", "--etcd=" + (*etcd)->endpoints()}));
    absl::StatusOr<std::unique_ptr<EtcdClient>> raw = EtcdClient::Connect((*etcd)->endpoints());
    if (!sqlite.ok() || !replicated.ok() || !raw.ok()) {
      std::fprintf(stderr, "cannot start the layers\n");
      return 1;
    }
    RawEtcdWriter raw_writer(raw->get());
    // CPU time of the etcd members (and of the backend) per write: etcd
    // works less per write the more transactions each raft round carries.
    auto etcd_cpu = [&] {
      double seconds = 0;
      for (int m = 0; m < (*etcd)->size(); ++m) {
        seconds += bench::SampleProcess((*etcd)->pid(m)).cpu_seconds;
      }
      return seconds;
    };
    auto per_write_ms = [](double cpu_seconds, const Result& r) {
      return 1000 * cpu_seconds / static_cast<double>(std::max<int64_t>(1, r.writes));
    };
    for (auto* backend : {sqlite->get(), replicated->get()}) {
      auto stub = backend->NewStub();
      const double etcd_before = etcd_cpu();
      const double backend_before = bench::SampleProcess(backend->process().pid()).cpu_seconds;
      Result r = Measure(writers, duration, [&](int w, int64_t i) {
        return Write(stub.get(), Award(absl::StrCat("b-", w, "-", i), i), absl::Seconds(10)).ok();
      });
      if (backend == sqlite->get()) {
        Row(&csv, "sqlite", writers, r);
        continue;
      }
      const double etcd_ms = per_write_ms(etcd_cpu() - etcd_before, r);
      Row(&csv, "etcd", writers, r, etcd_ms);
      std::printf(
          "    CPU per write: etcd members %.3f ms, backend %.3f ms\n", etcd_ms,
          per_write_ms(bench::SampleProcess(backend->process().pid()).cpu_seconds - backend_before,
                       r));
    }
    const double etcd_before = etcd_cpu();
    Result raw_result =
        Measure(writers, duration, [&](int w, int64_t i) { return raw_writer.Write(w, i); });
    const double raw_etcd_ms = per_write_ms(etcd_cpu() - etcd_before, raw_result);
    Row(&csv, "raw_etcd", writers, raw_result, raw_etcd_ms);
    std::printf("    CPU per write: etcd members %.3f ms\n", raw_etcd_ms);
  }
  return 0;
}

// The etcd member that leads, by asking each.
int Leader(const harness::EtcdCluster& etcd, EtcdClient& client) {
  for (int i = 0; i < etcd.size(); ++i) {
    if (!etcd.running(i)) continue;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    etcdserverpb::StatusResponse status;
    if (client.member(i)
            .maintenance->Status(&context, etcdserverpb::StatusRequest(), &status)
            .ok() &&
        status.leader() != 0 && status.leader() == status.header().member_id()) {
      return i;
    }
  }
  return -1;
}

int Failover(int kills) {
  harness::ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<harness::EtcdCluster>> etcd =
      harness::EtcdCluster::Start(3, dir.path() + "/etcd");
  if (!etcd.ok()) return 1;
  const std::vector<std::string> flags =
      GamesFlags({"--store=etcd", "--etcd=" + (*etcd)->endpoints()});
  std::vector<std::unique_ptr<harness::BackendProcess>> backends;
  for (const char* name : {"/b1", "/b2"}) {
    auto backend = StartBackend(dir.path() + name, flags);
    if (!backend.ok()) return 1;
    backends.push_back(*std::move(backend));
  }
  absl::StatusOr<std::unique_ptr<EtcdClient>> client = EtcdClient::Connect((*etcd)->endpoints());
  if (!client.ok()) return 1;
  auto stub = v1::Backend::NewStub(
      CreateFastReconnectChannel(backends[0]->address() + "," + backends[1]->address()));

  // The writer: one write at a time, retried under its key until it is
  // acknowledged; the time of each acknowledgement.
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  absl::Time last_ack = absl::InfinitePast();
  std::thread writer([&] {
    for (int64_t i = 0; !stop; ++i) {
      const v1::AwardMedalRequest request = Award(absl::StrCat("f-", i), i);
      while (!stop && !Write(stub.get(), request, absl::Milliseconds(500)).ok()) {
        absl::SleepFor(absl::Milliseconds(5));
      }
      absl::MutexLock lock(&mu);
      last_ack = absl::Now();
    }
  });
  // The first acknowledgement after `kill`, or a minute on.
  auto resumed_after = [&](absl::Time kill) {
    absl::MutexLock lock(&mu);
    auto acked = [&]() { return last_ack > kill; };
    mu.AwaitWithTimeout(absl::Condition(&acked), absl::Minutes(1));
    return absl::ToDoubleMilliseconds(last_ack - kill);
  };

  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_failover_csv).empty()) {
    csv.open(absl::GetFlag(FLAGS_failover_csv), std::ios::app);
  }
  std::vector<double> backend_ms, leader_ms;
  int status = 0;
  for (int round = 0; round < kills && status == 0; ++round) {
    // Both backends up and the writer's channel connected to the one
    // restarted last (its reconnection backs off up to a second) before
    // the next kill: what is measured is one backend's death, not two.
    absl::SleepFor(absl::Seconds(1));
    harness::BackendProcess& victim = *backends[round % 2];
    const absl::Time kill = absl::Now();
    victim.Kill(SIGKILL);
    backend_ms.push_back(resumed_after(kill));
    if (csv.is_open()) csv << "backend," << round << "," << backend_ms.back() << "\n";
    if (backend_ms.back() > 1000) {  // over the target: what the backends said
      for (const auto& backend : backends) {
        std::fprintf(stderr, "round %d took %.0f ms; %s:\n%s\n", round, backend_ms.back(),
                     backend->address().c_str(), backend->log().c_str());
      }
    }
    if (!victim.Start().ok()) status = 1;
  }
  for (int round = 0; round < kills && status == 0; ++round) {
    absl::SleepFor(absl::Milliseconds(300));
    const int leader = Leader(**etcd, **client);
    if (leader < 0) {
      status = 1;
      break;
    }
    const absl::Time kill = absl::Now();
    (*etcd)->Kill(leader);
    leader_ms.push_back(resumed_after(kill));
    if (csv.is_open()) csv << "etcd_leader," << round << "," << leader_ms.back() << "\n";
    if (!(*etcd)->Restart(leader).ok()) status = 1;
  }
  stop = true;
  writer.join();
  std::printf("\n| SIGKILL of | kills | p50 ms | max ms |\n|---|--:|--:|--:|\n");
  for (const auto& [name, ms] :
       {std::pair<const char*, std::vector<double>*>{"a backend", &backend_ms},
        {"etcd's leader", &leader_ms}}) {
    std::printf("| %s | %zu | %.0f | %.0f |\n", name, ms->size(), bench::Percentile(*ms, 0.5),
                bench::Percentile(*ms, 1.0));
  }
  return status;
}

int Main() {
  absl::StatusOr<Games> games = absl::GetFlag(FLAGS_games).empty()
                                    ? Games::Default()
                                    : Games::LoadFile(absl::GetFlag(FLAGS_games));
  if (!games.ok()) {
    std::fprintf(stderr, "%s\n", std::string(games.status().message()).c_str());
    return 2;
  }
  Teams() = games->teams();
  const std::vector<int> counts = bench::ParseCounts(absl::GetFlag(FLAGS_writers));
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  if (!counts.empty()) {
    if (int s = Writes(counts, duration); s != 0) return s;
  }
  return absl::GetFlag(FLAGS_kills) > 0 ? Failover(absl::GetFlag(FLAGS_kills)) : 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return podium::Main();
}
