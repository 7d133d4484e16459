// Fan-out of one frontend: N subscribers of one key, then writes to that
// key through the backend; how long each update takes to reach each
// subscriber, and how many deliveries a second the frontend sustains.
//
// One backend and one push-mode frontend, real processes on loopback. The
// subscribers live in this process on gRPC's async API (spread over
// --channels connections and --queues completion queues), so 10,000 streams
// need no 10,000 threads. After every subscriber has its opening
// snapshot come two phases:
//   latency     --writes changes, each written once the previous one has
//               reached every subscriber; each delivery is timed from the
//               write's acknowledgement (the writer got the backend's reply)
//               to the subscriber's receipt, and from the write's send. A
//               push can beat the acknowledgement, so "from ack" may be
//               negative at the low end.
//   throughput  --burst changes written at once (all in flight together);
//               deliveries per second is every delivery of the burst over
//               the time from its first write to its last receipt. What
//               waits for a subscriber leaves in one message, so the burst
//               also reports updates per message. A frontend that falls
//               behind conflates (delivers the newest value, skips older
//               ones); the "delivered" column is the share of (subscriber,
//               write) pairs of the burst that arrived.
//
//               Not one write after another: on two cores saturated by the
//               fan-out, each of those took about 85 ms to be acknowledged,
//               so the figure measured the writer, not the frontend.
//
//   build/bench/fanout_bench [--subscribers=1,100,1000,10000] [--writes=30]
//                            [--burst=50] [--channels=64] [--queues=16]
//                            [--games=FILE [--event=E]] [--csv=FILE]
//
// With --games the backend runs that games file and the key is --event
// (default: its first event), written through the first team taking part;
// each update then carries every team of that event.
//
// --targets=podium,floor,redis,sse,redis:1 measures several servers in
// turn at each subscriber count (see the flag): besides Podium's gRPC
// Subscribe streams, the gRPC floor and Redis pub/sub, `sse` is the same
// frontend's HTTP plane, Server-Sent Events read by one epoll loop
// (sse_fanout.h), and `redis:K` Redis read by K epoll threads (`redis`:
// --redis_threads). Rows then add the server's CPU per delivery, how many
// (subscriber, write) samples the latency figures rank, and the server's
// resident memory per idle subscriber where it is measured (sse, redis).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/fanout_floor.h"
#include "bench/fanout_targets.h"
#include "bench/measurements.h"
#include "bench/redis_fanout.h"
#include "bench/sse_fanout.h"
#include "common/auth.h"
#include "common/channel.h"
#include "harness/cluster.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"
#include "podium/v1/scoreboard.grpc.pb.h"

ABSL_FLAG(std::string, subscribers, "1,100,1000,10000", "subscriber counts to measure");
ABSL_FLAG(int, writes, 30, "latency phase: writes, each after the last was delivered");
ABSL_FLAG(int, burst, 50, "throughput phase: writes sent at once");
ABSL_FLAG(int, channels, 64, "connections the subscribers are spread over");
ABSL_FLAG(int, queues, 16, "completion queues (a thread each) the subscribers are spread over");
ABSL_FLAG(std::string, csv, "", "also append rows to this CSV file");
ABSL_FLAG(std::string, games, "",
          "the backend's games file (e.g. games/paris2024.games); empty: its built-in day");
ABSL_FLAG(std::string, event, "", "the event subscribed to and written; empty: the games' first");
ABSL_FLAG(std::vector<std::string>, frontend_flags, {},
          "extra flags for podium-frontend, comma-separated (e.g. --stream_threads=4)");
ABSL_FLAG(std::vector<std::string>, targets, {},
          "servers to fan out from, in turn at each subscriber count: podium (a backend and a "
          "frontend), floor (bench/fanout_floor.h: a bare gRPC server writing one message "
          "serialized once to every stream), redis (redis-server pub/sub, "
          "bench/redis_fanout.h; redis:K reads it with K epoll threads instead of "
          "--redis_threads) and sse (Server-Sent Events from a frontend of its own started "
          "with --http_listen, read by one epoll loop, bench/sse_fanout.h); rows then name "
          "their target and add the server's CPU per delivery, the latency samples and the "
          "server's memory per idle subscriber. Empty: podium, in the classic table");
ABSL_FLAG(int, redis_threads, 16,
          "epoll threads reading the redis subscribers' connections (as --queues for gRPC)");

namespace podium {
namespace {

using bench::FanoutTarget;
using bench::Percentile;
using bench::Receipt;

// The key measured, and the team its writes name: set once from the
// games, before the first subscriber.
std::string& BenchEvent() {
  static std::string event;
  return event;
}
std::string& BenchTeam() {
  static std::string team;
  return team;
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

struct Result {
  double p50_ack_us = 0, p99_ack_us = 0, p50_send_us = 0, p99_send_us = 0;
  double deliveries_per_second = 0;
  double updates_per_message = 0;  // in the burst
  double delivered_share = 0;
  double cpu_us_per_delivery = 0;         // the server's, over the burst
  int64_t ack_samples = 0;                // (subscriber, write) pairs the latencies rank
  double idle_bytes_per_subscriber = -1;  // -1: not measured
};

// The two phases against `target` with `subscribers` subscribers.
absl::StatusOr<Result> Measure(FanoutTarget& target, int subscribers) {
  const int writes = absl::GetFlag(FLAGS_writes);
  const int burst = absl::GetFlag(FLAGS_burst);
  absl::Status failure = target.Open(subscribers);
  std::vector<int64_t> seqs, sent, acked;  // of the latency phase's writes
  for (int w = 0; w < writes && failure.ok(); ++w) {
    const int64_t t0 = NowMicros();
    absl::StatusOr<std::vector<int64_t>> seq = target.Publish(1);
    if (!seq.ok()) {
      failure = seq.status();
      break;
    }
    seqs.push_back(seq->front());
    sent.push_back(t0);
    acked.push_back(NowMicros());
    // Paced: the next write waits until this one reached everyone
    // (bounded; a conflated delivery would otherwise never come).
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (target.received() < static_cast<int64_t>(subscribers) * (w + 1) &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Microseconds(100));
    }
  }
  const int64_t burst_start = NowMicros();
  const double cpu_before = bench::SampleProcess(target.server()).cpu_seconds;
  std::vector<int64_t> burst_seqs;
  if (failure.ok()) {
    absl::StatusOr<std::vector<int64_t>> written = target.Publish(burst);
    if (written.ok()) {
      burst_seqs = *std::move(written);
    } else {
      failure = written.status();
    }
  }
  const int64_t last_seq =
      burst_seqs.empty() ? (seqs.empty() ? 0 : seqs.back()) : burst_seqs.back();
  // The burst: wait (bounded) until every subscriber has its last write.
  for (int waited_ms = 0; failure.ok() && waited_ms < 60000 && !target.AllHave(last_seq);
       ++waited_ms) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const double burst_cpu = bench::SampleProcess(target.server()).cpu_seconds - cpu_before;
  const absl::Status closed = target.Close();
  if (!failure.ok()) return failure;
  if (!closed.ok()) return closed;

  std::vector<double> from_ack, from_send;
  int64_t burst_deliveries = 0;
  int64_t burst_messages = 0;
  int64_t last_receipt = burst_start;
  for (const std::vector<Receipt>* receipts : target.receipts()) {
    int64_t last_message = -1;
    for (const auto& [seq, receipt, message] : *receipts) {
      if (std::binary_search(burst_seqs.begin(), burst_seqs.end(), seq)) {
        ++burst_deliveries;
        last_receipt = std::max(last_receipt, receipt);
        if (message != last_message) ++burst_messages;
        last_message = message;
        continue;
      }
      auto it = std::lower_bound(seqs.begin(), seqs.end(), seq);
      if (it == seqs.end() || *it != seq) continue;
      const size_t w = it - seqs.begin();
      from_ack.push_back(static_cast<double>(receipt - acked[w]));
      from_send.push_back(static_cast<double>(receipt - sent[w]));
    }
  }
  Result result;
  result.delivered_share = static_cast<double>(burst_deliveries) /
                           (static_cast<double>(subscribers) * std::max(burst, 1));
  result.deliveries_per_second =
      burst_deliveries / std::max(1e-6, (last_receipt - burst_start) / 1e6);
  result.updates_per_message =
      static_cast<double>(burst_deliveries) / std::max<int64_t>(1, burst_messages);
  result.cpu_us_per_delivery = 1e6 * burst_cpu / std::max<int64_t>(1, burst_deliveries);
  result.p50_ack_us = Percentile(from_ack, 0.5);
  result.p99_ack_us = Percentile(from_ack, 0.99);
  result.p50_send_us = Percentile(from_send, 0.5);
  result.p99_send_us = Percentile(from_send, 0.99);
  result.ack_samples = static_cast<int64_t>(from_ack.size());
  result.idle_bytes_per_subscriber = target.idle_bytes_per_subscriber();
  return result;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "fanout_bench: %s\n", status.ToString().c_str());
  return 1;
}

int Main(const std::string& self) {
  std::vector<std::string> targets = absl::GetFlag(FLAGS_targets);
  const bool peers = !targets.empty();
  if (!peers) targets = {"podium"};
  bool floor_wanted = false;
  std::map<std::string, int> redis_threads;  // per redis target
  for (const std::string& target : targets) {
    int threads = 0;
    if (target == "redis") {
      redis_threads[target] = absl::GetFlag(FLAGS_redis_threads);
    } else if (absl::StartsWith(target, "redis:") && absl::SimpleAtoi(target.substr(6), &threads) &&
               threads > 0) {
      redis_threads[target] = threads;
    } else if (target != "podium" && target != "floor" && target != "sse") {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "unknown --targets entry '", target, "': use podium, floor, redis, redis:K, sse")));
    }
    floor_wanted = floor_wanted || target == "floor";
  }
  std::vector<int> counts;
  for (absl::string_view n : absl::StrSplit(absl::GetFlag(FLAGS_subscribers), ',')) {
    int count = 0;
    if (!absl::SimpleAtoi(n, &count) || count <= 0) {
      return Fail(absl::InvalidArgumentError(absl::StrCat("bad --subscribers entry '", n, "'")));
    }
    counts.push_back(count);
  }
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path(), bench::GamesFlags(absl::GetFlag(FLAGS_games)));
  if (absl::Status s = backend.Start(); !s.ok()) return Fail(s);
  harness::FrontendCluster frontend(dir.path(), backend.address(), 1, "push",
                                    absl::GetFlag(FLAGS_frontend_flags));
  if (absl::Status s = frontend.StartAll(); !s.ok()) return Fail(s);
  if (absl::Status s = frontend.WaitForMaster(frontend.address(0), absl::Seconds(15)); !s.ok()) {
    return Fail(s);
  }
  auto stub = backend.NewStub();
  {
    // A board read makes sure the frontend has the games' names before the
    // subscribers come (a Subscribe waits only briefly for them).
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::Board board;
    grpc::Status status =
        frontend.NewStub(0)->GetBoard(&context, v1::GetScoreboardRequest(), &board);
    if (!status.ok()) return Fail(absl::UnavailableError(status.error_message()));
    BenchEvent() = absl::GetFlag(FLAGS_event);
    for (const v1::EventScore& score : board.events()) {
      if (BenchEvent().empty()) BenchEvent() = score.event();
      if (score.event() == BenchEvent() && !score.points().empty()) {
        BenchTeam() = score.points(0).team();
        std::printf("fan-out of %s (%d teams taking part)\n\n", BenchEvent().c_str(),
                    score.points_size());
      }
    }
    if (BenchTeam().empty()) {
      return Fail(absl::NotFoundError(
          absl::StrCat("no event '", BenchEvent(), "' with teams in the games")));
    }
  }
  // The floor: this binary again, serving bench/fanout_floor.h.
  std::optional<harness::Subprocess> floor;
  std::string floor_address;
  std::unique_ptr<v1::Backend::Stub> floor_client;
  if (floor_wanted) {
    absl::StatusOr<harness::Subprocess> started =
        bench::StartFanoutFloor(self, dir.path() + "/floor.log", &floor_address);
    if (!started.ok()) return Fail(started.status());
    floor = *std::move(started);
    floor_client = v1::Backend::NewStub(CreateFastReconnectChannel(floor_address));
  }
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);

  std::printf(
      "| %ssubscribers | delivered | deliveries/s | p50 from ack us | p99 from ack us "
      "| p50 from send us | p99 from send us | updates/message |%s\n",
      peers ? "target | " : "",
      peers ? " server CPU us/delivery | samples | idle KB/subscriber |" : "");
  std::printf(
      "|%s-------------|-----------|--------------|-----------------|-----------------"
      "|------------------|------------------|-----------------|%s\n",
      peers ? "--------|" : "",
      peers ? "------------------------|---------|--------------------|" : "");
  // Write numbers are idempotency keys: the targets writing through the
  // backend (podium, sse) share one count, the floor has its own.
  std::map<std::string, int> write_numbers;
  for (int subscribers : counts) {
    for (const std::string& target : targets) {
      const int expected = absl::GetFlag(FLAGS_writes) + absl::GetFlag(FLAGS_burst);
      std::unique_ptr<FanoutTarget> fanout;
      if (redis_threads.count(target) > 0) {
        absl::StatusOr<std::unique_ptr<bench::RedisFanout>> redis = bench::RedisFanout::Start(
            dir.path(), BenchEvent(), BenchTeam(), redis_threads[target], expected);
        if (!redis.ok()) return Fail(redis.status());
        fanout = *std::move(redis);
      } else if (target == "sse") {
        absl::StatusOr<std::unique_ptr<bench::SseFanout>> sse = bench::SseFanout::Start(
            dir.path(), backend.address(), stub.get(), BenchEvent(), BenchTeam(),
            absl::GetFlag(FLAGS_frontend_flags), expected, &write_numbers["backend"]);
        if (!sse.ok())
          return Fail(
              absl::Status(sse.status().code(), absl::StrCat("sse: ", sse.status().message())));
        fanout = *std::move(sse);
      } else {
        const bool on_floor = target == "floor";
        fanout = std::make_unique<bench::GrpcFanout>(
            on_floor ? floor_address : frontend.address(0),
            on_floor ? floor_client.get() : stub.get(), on_floor ? floor->pid() : frontend.pid(0),
            BenchEvent(), BenchTeam(), absl::GetFlag(FLAGS_channels), absl::GetFlag(FLAGS_queues),
            expected, &write_numbers[on_floor ? "floor" : "backend"]);
      }
      absl::StatusOr<Result> r = Measure(*fanout, subscribers);
      if (!r.ok())
        return Fail(
            absl::Status(r.status().code(), absl::StrCat(target, ": ", r.status().message())));
      std::printf("| %s%11d | %8.1f%% | %12.0f | %15.0f | %15.0f | %16.0f | %16.0f | %15.1f |",
                  peers ? absl::StrCat(target, " | ").c_str() : "", subscribers,
                  100 * r->delivered_share, r->deliveries_per_second, r->p50_ack_us, r->p99_ack_us,
                  r->p50_send_us, r->p99_send_us, r->updates_per_message);
      if (peers) {
        std::printf(" %22.2f | %7lld | %18s |", r->cpu_us_per_delivery,
                    static_cast<long long>(r->ack_samples),
                    r->idle_bytes_per_subscriber < 0
                        ? "-"
                        : absl::StrFormat("%.1f", r->idle_bytes_per_subscriber / 1024).c_str());
      }
      std::printf("\n");
      std::fflush(stdout);
      if (csv.is_open()) {
        if (peers) csv << target << ",";
        csv << subscribers << "," << r->delivered_share << ","
            << static_cast<int64_t>(r->deliveries_per_second) << "," << r->p50_ack_us << ","
            << r->p99_ack_us << "," << r->p50_send_us << "," << r->p99_send_us << ","
            << r->updates_per_message;
        if (peers) {
          csv << "," << r->cpu_us_per_delivery << "," << r->ack_samples << ","
              << static_cast<int64_t>(r->idle_bytes_per_subscriber);
        }
        csv << "\n";
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) { return podium::bench::FloorBenchMain(argc, argv, podium::Main); }
