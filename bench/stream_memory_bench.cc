// What an idle subscriber costs a server in resident memory: Podium's gRPC
// Subscribe streams and Server-Sent Events streams, beside the gRPC floor
// (bench/fanout_floor.h: a server holding the same streams and doing
// nothing else, built on Podium's StartServer like the frontend) and Redis
// pub/sub, each server started afresh for each measurement so that its
// growth is the subscribers' own.
//
// Why it exists: when a frontend dies, each survivor takes its share of the
// dead one's subscribers at once (issue 12 asks for at most 50 MB of growth
// per survivor, about 5,000 arriving streams). This shows what a gRPC
// server pays per stream before any change is published.
//
//   build/bench/stream_memory_bench [--streams=1000,5000] [--rounds=3]
//                                   [--targets=floor,podium,sse,redis]
//                                   [--channels=64] [--queues=16] [--csv=FILE]
//
// Per target and stream count: the server's RSS before the subscribers
// connect, and once all of them have their opening and a second has passed
// with nothing in flight. The figure per stream includes what the server
// pays once for them all (the gRPC targets' 64 connections, first calls),
// so it is a little higher at 1,000 than at 5,000; the kernel's socket
// buffers are not in it (SSE and Redis hold a socket per subscriber, the
// gRPC targets 64 in all).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
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
#include "podium/v1/backend.grpc.pb.h"

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

namespace podium {
namespace {

absl::Status ErrorIn(const std::string& target, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(target, ": ", status.message()));
}

// The event the subscribers follow, and a team of it: the built-in day's
// first with teams, from the backend's board.
absl::Status FindEvent(v1::Backend::Stub* backend, std::string* event, std::string* team) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::Board board;
  grpc::Status status = backend->GetBoard(&context, v1::GetBoardRequest(), &board);
  if (!status.ok()) return absl::UnavailableError("the backend's board: " + status.error_message());
  for (const v1::EventScore& score : board.events()) {
    if (score.points().empty()) continue;
    *event = score.event();
    *team = score.points(0).team();
    return absl::OkStatus();
  }
  return absl::NotFoundError("no event with teams in the built-in day");
}

// What serves a gRPC target: a frontend or the floor. Declared before the
// fan-out that reads from it, so that it outlives the streams.
struct GrpcServer {
  std::unique_ptr<harness::FrontendCluster> frontend;
  harness::Subprocess floor;
  std::unique_ptr<v1::Backend::Stub> floor_client;
};

// Starts `target`'s server (floor or podium) for one measurement; the
// fan-out that subscribes to it.
absl::StatusOr<std::unique_ptr<bench::GrpcFanout>> StartGrpcTarget(
    const std::string& self, const std::string& target, const std::string& dir,
    const harness::BackendProcess& backend, v1::Backend::Stub* backend_stub,
    const std::string& event, const std::string& team, int* writes, GrpcServer* server) {
  std::string address;
  pid_t pid = 0;
  v1::Backend::Stub* publisher = backend_stub;
  if (target == "floor") {
    absl::StatusOr<harness::Subprocess> floor =
        bench::StartFanoutFloor(self, dir + "/floor.log", &address);
    if (!floor.ok()) return floor.status();
    server->floor = *std::move(floor);
    pid = server->floor.pid();
    server->floor_client = v1::Backend::NewStub(CreateFastReconnectChannel(address));
    publisher = server->floor_client.get();
  } else {
    server->frontend =
        std::make_unique<harness::FrontendCluster>(dir, backend.address(), 1, "push");
    harness::FrontendCluster& frontend = *server->frontend;
    if (absl::Status s = frontend.StartAll(); !s.ok()) return s;
    if (absl::Status s = frontend.WaitForMaster(frontend.address(0), absl::Seconds(15)); !s.ok()) {
      return s;
    }
    // Its names and the event's entry ready, as on a frontend that has
    // served for a while.
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::Board board;
    grpc::Status read = frontend.NewStub(0)->GetBoard(&context, v1::GetScoreboardRequest(), &board);
    if (!read.ok()) return absl::UnavailableError("the frontend's board: " + read.error_message());
    address = frontend.address(0);
    pid = frontend.pid(0);
  }
  auto fanout = std::make_unique<bench::GrpcFanout>(address, publisher, pid, event, team,
                                                    absl::GetFlag(FLAGS_channels),
                                                    absl::GetFlag(FLAGS_queues), 1, writes);
  fanout->MeasureIdleMemory();
  return fanout;
}

// One measurement: `target` started afresh, `streams` subscribers opened,
// their memory per stream, and everything stopped again.
absl::StatusOr<double> MeasureOnce(const std::string& self, const std::string& target, int streams,
                                   const harness::BackendProcess& backend,
                                   v1::Backend::Stub* backend_stub, const std::string& event,
                                   const std::string& team) {
  harness::ScopedTempDir dir;
  int writes = 0;  // nothing is published; the targets want a counter
  GrpcServer server;
  std::unique_ptr<bench::FanoutTarget> fanout;
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
    absl::StatusOr<std::unique_ptr<bench::GrpcFanout>> grpc_fanout = StartGrpcTarget(
        self, target, dir.path(), backend, backend_stub, event, team, &writes, &server);
    if (!grpc_fanout.ok()) return grpc_fanout.status();
    fanout = *std::move(grpc_fanout);
  }
  // Closed whether or not every stream opened, as fanout_bench does.
  const absl::Status opened = fanout->Open(streams);
  const double bytes = fanout->idle_bytes_per_subscriber();
  const absl::Status closed = fanout->Close();
  if (!opened.ok()) return opened;
  if (!closed.ok()) return closed;
  return bytes;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "stream_memory_bench: %s\n", status.ToString().c_str());
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
  if (absl::Status s = FindEvent(stub.get(), &event, &team); !s.ok()) return Fail(s);

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
  // Beyond the smallest count: what each further stream adds, without the
  // costs paid once for them all.
  auto median = [&rounds](const std::string& target, int streams) {
    return bench::Percentile(rounds[{target, streams}], 0.5);
  };
  std::printf(
      "| target | idle streams | KB per stream (median) | growth MB | vs floor | KB per stream "
      "beyond the first %d |\n",
      counts.front());
  std::printf("|--------|--:|--:|--:|--:|--:|\n");
  for (int streams : counts) {
    const bool floor_measured = rounds.count({"floor", streams}) > 0;
    for (const std::string& target : targets) {
      const double bytes = median(target, streams);
      const std::string vs_floor =
          floor_measured ? absl::StrFormat("%.2fx", bytes / median("floor", streams)) : "-";
      const std::string marginal =
          streams == counts.front()
              ? "-"
              : absl::StrFormat(
                    "%.1f", (bytes * streams - median(target, counts.front()) * counts.front()) /
                                (streams - counts.front()) / 1024);
      std::printf("| %s | %d | %.1f | %.1f | %s | %s |\n", target.c_str(), streams, bytes / 1024,
                  bytes * streams / (1024 * 1024), vs_floor.c_str(), marginal.c_str());
    }
  }
  return 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) { return podium::bench::FloorBenchMain(argc, argv, podium::Main); }
