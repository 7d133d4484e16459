// What an idle subscriber costs a server in resident memory: Podium's gRPC
// Subscribe streams and Server-Sent Events streams, beside the gRPC floor
// (bench/fanout_floor.h: a bare server holding the same streams) and Redis
// pub/sub, each server started afresh for each measurement so that its
// growth is the streams' own.
//
// Why it exists: when a frontend dies, each survivor takes its share of the
// dead one's subscribers at once (issue 12 asks for ≤ 50 MB of growth per
// survivor for 5,000 arriving streams). This shows how much of that growth
// any gRPC server pays per stream before it sends a single update.
//
//   build/bench/stream_memory_bench [--streams=1000,5000] [--rounds=3]
//                                   [--targets=floor,podium,sse,redis]
//                                   [--channels=64] [--csv=FILE]
//
// Per target and stream count: the server's RSS before the subscribers
// connect, and once all of them have their opening and a second has
// passed with nothing in flight; the table gives the median round's growth,
// per stream and for the whole count.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/fanout_floor.h"
#include "bench/fanout_targets.h"
#include "bench/measurements.h"
#include "bench/redis_fanout.h"
#include "bench/sse_fanout.h"
#include "common/channel.h"
#include "harness/cluster.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"

ABSL_FLAG(std::string, streams, "1000,5000", "idle subscriber counts to measure");
ABSL_FLAG(int, rounds, 3, "rounds over every target and count; figures are the median round");
ABSL_FLAG(std::vector<std::string>, targets,
          std::vector<std::string>({"floor", "podium", "sse", "redis"}),
          "servers measured: floor (a bare gRPC server, bench/fanout_floor.h), podium (a "
          "push-mode frontend's Subscribe), sse (a frontend's Server-Sent Events), redis "
          "(redis-server pub/sub)");
ABSL_FLAG(int, channels, 64, "connections the gRPC subscribers are spread over");
ABSL_FLAG(int, queues, 16, "completion queues (a thread each) reading the gRPC subscribers");
ABSL_FLAG(std::string, csv, "", "also append rows to this CSV file");
ABSL_FLAG(std::string, floor_listen, "",
          "internal: serve the floor on this address instead (this binary starts itself so)");

namespace podium {
namespace {

absl::Status ErrorIn(const std::string& target, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(target, ": ", status.message()));
}

// The event the subscribers follow, and a team of it: the built-in day's
// first, read from the board as a frontend serves it.
absl::Status FindEvent(const harness::BackendProcess& backend, std::string* event,
                       std::string* team) {
  harness::ScopedTempDir dir;
  harness::FrontendCluster frontend(dir.path(), backend.address(), 1, "push");
  if (absl::Status s = frontend.StartAll(); !s.ok()) return s;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::Board board;
  grpc::Status status = frontend.NewStub(0)->GetBoard(&context, v1::GetScoreboardRequest(), &board);
  if (!status.ok()) return absl::UnavailableError("board: " + status.error_message());
  for (const v1::EventScore& score : board.events()) {
    if (score.points().empty()) continue;
    *event = score.event();
    *team = score.points(0).team();
    return absl::OkStatus();
  }
  return absl::NotFoundError("no event with teams in the built-in day");
}

// One measurement: `target` started afresh, `streams` subscribers opened,
// their memory per stream, and everything stopped again.
absl::StatusOr<double> MeasureOnce(const std::string& self, const std::string& target, int streams,
                                   const harness::BackendProcess& backend,
                                   v1::Backend::Stub* backend_stub, const std::string& event,
                                   const std::string& team) {
  harness::ScopedTempDir dir;
  int writes = 0;  // nothing is published; the targets want a counter
  std::unique_ptr<bench::FanoutTarget> fanout;
  // What serves the gRPC targets, kept until the streams are closed.
  std::unique_ptr<harness::FrontendCluster> frontend;
  std::optional<harness::Subprocess> floor;
  std::unique_ptr<v1::Backend::Stub> floor_stub;
  if (target == "redis") {
    absl::StatusOr<std::unique_ptr<bench::RedisFanout>> redis =
        bench::RedisFanout::Start(dir.path(), event, team, absl::GetFlag(FLAGS_queues), 1);
    if (!redis.ok()) return redis.status();
    fanout = *std::move(redis);
  } else if (target == "sse") {
    absl::StatusOr<std::unique_ptr<bench::SseFanout>> sse = bench::SseFanout::Start(
        dir.path(), backend.address(), backend_stub, event, team, {}, 1, &writes);
    if (!sse.ok()) return sse.status();
    fanout = *std::move(sse);
  } else {
    std::string address;
    pid_t pid = 0;
    v1::Backend::Stub* publisher = backend_stub;
    if (target == "floor") {
      address = absl::StrCat("127.0.0.1:", harness::PickFreePort());
      absl::StatusOr<harness::Subprocess> started = harness::StartHealthy(
          {self, "--floor_listen=" + address}, dir.path() + "/floor.log", address);
      if (!started.ok()) return started.status();
      floor = *std::move(started);
      pid = floor->pid();
      floor_stub = v1::Backend::NewStub(CreateFastReconnectChannel(address));
      publisher = floor_stub.get();
    } else {
      frontend =
          std::make_unique<harness::FrontendCluster>(dir.path(), backend.address(), 1, "push");
      if (absl::Status s = frontend->StartAll(); !s.ok()) return s;
      if (absl::Status s = frontend->WaitForMaster(frontend->address(0), absl::Seconds(15));
          !s.ok()) {
        return s;
      }
      // Its names and the event's entry ready, as on a frontend that has
      // served for a while.
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      v1::Board board;
      grpc::Status read =
          frontend->NewStub(0)->GetBoard(&context, v1::GetScoreboardRequest(), &board);
      if (!read.ok()) return absl::UnavailableError("board: " + read.error_message());
      address = frontend->address(0);
      pid = frontend->pid(0);
    }
    auto grpc_fanout = std::make_unique<bench::GrpcFanout>(address, publisher, pid, event, team,
                                                           absl::GetFlag(FLAGS_channels),
                                                           absl::GetFlag(FLAGS_queues), 1, &writes);
    grpc_fanout->MeasureIdleMemory();
    fanout = std::move(grpc_fanout);
  }
  if (absl::Status s = fanout->Open(streams); !s.ok()) return s;
  const double bytes = fanout->idle_bytes_per_subscriber();
  if (absl::Status s = fanout->Close(); !s.ok()) return s;
  if (bytes < 0) return absl::InternalError("no memory figure");
  return bytes;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "stream_memory_bench: %s\n", std::string(status.message()).c_str());
  return 1;
}

int Main(const std::string& self) {
  const std::vector<int> counts = bench::ParseCounts(absl::GetFlag(FLAGS_streams));
  const std::vector<std::string> targets = absl::GetFlag(FLAGS_targets);
  for (const std::string& target : targets) {
    if (target != "floor" && target != "podium" && target != "sse" && target != "redis") {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("unknown --targets entry '", target, "': use floor, podium, sse or redis")));
    }
  }
  if (counts.empty() || absl::GetFlag(FLAGS_rounds) < 1) {
    return Fail(absl::InvalidArgumentError("--streams needs counts and --rounds at least 1"));
  }
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  if (absl::Status s = backend.Start(); !s.ok()) return Fail(s);
  std::unique_ptr<v1::Backend::Stub> stub = backend.NewStub();
  std::string event, team;
  if (absl::Status s = FindEvent(backend, &event, &team); !s.ok()) return Fail(s);

  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);
  std::map<std::pair<std::string, int>, std::vector<double>> rounds;
  for (int round = 1; round <= absl::GetFlag(FLAGS_rounds); ++round) {
    for (int streams : counts) {
      for (const std::string& target : targets) {
        absl::StatusOr<double> bytes =
            MeasureOnce(self, target, streams, backend, stub.get(), event, team);
        if (!bytes.ok()) return Fail(ErrorIn(target, bytes.status()));
        std::fprintf(stderr, "round %d: %s, %d idle streams: %.0f bytes each\n", round,
                     target.c_str(), streams, *bytes);
        rounds[{target, streams}].push_back(*bytes);
        if (csv.is_open()) {
          csv << round << "," << target << "," << streams << "," << static_cast<int64_t>(*bytes)
              << "\n";
        }
      }
    }
  }
  std::printf("| target | idle streams | KB per stream (median) | growth MB | vs floor |\n");
  std::printf("|--------|-------------:|-----------------------:|----------:|---------:|\n");
  for (int streams : counts) {
    const auto floor = rounds.find({"floor", streams});
    const double floor_bytes = floor == rounds.end() ? 0 : bench::Percentile(floor->second, 0.5);
    for (const std::string& target : targets) {
      const double bytes = bench::Percentile(rounds[{target, streams}], 0.5);
      std::printf("| %s | %d | %.1f | %.1f | %s |\n", target.c_str(), streams, bytes / 1024,
                  bytes * streams / (1024 * 1024),
                  floor_bytes > 0 ? absl::StrFormat("%.2fx", bytes / floor_bytes).c_str() : "-");
    }
  }
  return 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  podium::bench::RaiseFileLimit();
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!absl::GetFlag(FLAGS_floor_listen).empty()) {
    return podium::bench::ServeFanoutFloor(
        absl::GetFlag(FLAGS_floor_listen),
        std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return 1;
  self[n] = '\0';
  return podium::Main(self);
}
