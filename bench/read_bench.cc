// Cached GetScore (or GetBoard) throughput and latency through a frontend,
// against a bare gRPC callback-API server answering the same message,
// measured in the same run on the same machine.
//
// Targets, each a separate process on loopback:
//   reference  this binary in --reference_listen mode: answers with the
//              very message the cached frontend gave (read once at the
//              start); no cache, no locks, no backend
//   hit        podium-frontend --cache=push, every read a cache hit
//   miss       podium-frontend --cache=off, every read goes to the backend
//
//   build/bench/read_bench [--seconds=1] [--rounds=5] [--callers=1,4,16,64]
//                          [--h2load=1x1,4x32,16x16,200x1] [--pin=true]
//                          [--reference_queues=N]
//                          [--games=FILE] [--read=score|board] [--event=E]
//                          [--csv=FILE]
//
// The load comes from this binary's synchronous callers (--callers), or
// from h2load (--h2load), which shares no code with gRPC and costs far
// less per call: the fairer judge of a server's own cost. With h2load the
// servers run on one CPU and h2load on the others (--pin), so each figure
// is what one core of the server serves.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/h2load_run.h"
#include "bench/measurements.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/server.h"
#include "harness/cluster.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"
#include "podium/v1/scoreboard.grpc.pb.h"

ABSL_FLAG(double, seconds, 1, "measuring time per target, per round");
ABSL_FLAG(int, rounds, 5,
          "rounds alternating the targets; each figure is the median round, "
          "so load that drifts during the run hits all targets alike");
ABSL_FLAG(std::string, callers, "1,4,16,64", "concurrent caller counts");
ABSL_FLAG(std::string, csv, "", "also append rows to this CSV file");
ABSL_FLAG(std::string, h2load, "",
          "load from h2load (Debian's nghttp2-client), an independent HTTP/2 load "
          "generator, instead of this binary's own callers: CLIENTSxSTREAMS points, "
          "e.g. 1x1,4x32,16x16,200x1 (h2load -c CLIENTS -m STREAMS); --callers is "
          "then ignored");
ABSL_FLAG(std::string, games, "",
          "the backend's games file (e.g. games/paris2024.games); empty: its built-in day");
ABSL_FLAG(std::string, read, "score",
          "what each call reads: score (GetScore of --event) or board (GetBoard)");
ABSL_FLAG(std::string, event, "", "the event GetScore reads; empty: the games' first");
ABSL_FLAG(bool, pin, true,
          "with --h2load: run the servers on the last CPU this process may use and "
          "h2load on the others, so that no round depends on where the scheduler "
          "put them (needs two CPUs; false: leave placement to the scheduler)");
ABSL_FLAG(std::string, reference_listen, "",
          "internal: serve the reference Scoreboard on this address");
ABSL_FLAG(std::string, reference_reply, "",
          "internal: the file holding the reference's answer, serialized");
ABSL_FLAG(int, reference_queues, 0,
          "give the reference this many idle async completion queues, each with a "
          "thread waiting on it (shows what such waiting threads, which poll, cost "
          "unary calls; a frontend's Subscribe queues were such until they stopped "
          "polling)");

namespace podium {
namespace {

// The reference, the floor a real server stands on: a minimal gRPC
// callback-API server (no thread handed each call) that answers GetScore
// and GetBoard with constants, the frontend's own answers, copied into
// the reply and serialized by gRPC per call, as any server of messages
// does.
class ReferenceScoreboard final : public v1::Scoreboard::CallbackService {
 public:
  ReferenceScoreboard(v1::EventScore score, v1::Board board)
      : score_(std::move(score)), board_(std::move(board)) {}
  grpc::ServerUnaryReactor* GetScore(grpc::CallbackServerContext* context,
                                     const v1::GetScoreRequest*, v1::EventScore* reply) override {
    *reply = score_;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* GetBoard(grpc::CallbackServerContext* context,
                                     const v1::GetScoreboardRequest*, v1::Board* reply) override {
    *reply = board_;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const v1::EventScore score_;
  const v1::Board board_;
};

// Read once (after the flags are parsed): a flag read costs a lock, and
// this is asked on every call measured.
bool ReadingBoards() {
  static const bool boards = absl::GetFlag(FLAGS_read) == "board";
  return boards;
}

int ServeReference(const std::string& address, const std::string& reply_file) {
  BlockTerminationSignals();
  std::ifstream in(reply_file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  v1::EventScore score;
  v1::Board board;
  if (!(ReadingBoards() ? board.ParseFromString(bytes) : score.ParseFromString(bytes))) {
    std::fprintf(stderr, "cannot parse the reference's answer in %s\n", reply_file.c_str());
    return 1;
  }
  ReferenceScoreboard service(std::move(score), std::move(board));
  // --reference_queues: idle async queues, each with a thread waiting on
  // it; they show what such threads cost a server's unary calls (they take
  // turns polling its connections). A frontend's Subscribe queues were
  // such, before they stopped polling (frontend/subscribe_streams.h).
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      StartServer(address, {&service}, nullptr, [&queues](grpc::ServerBuilder* builder) {
        for (int i = 0; i < absl::GetFlag(FLAGS_reference_queues); ++i) {
          queues.push_back(builder->AddCompletionQueue());
        }
      });
  if (!server.ok()) return 1;
  std::vector<std::thread> waiting;
  for (auto& queue : queues) {
    waiting.emplace_back([queue = queue.get()] {
      void* tag;
      bool ok;
      while (queue->Next(&tag, &ok)) {
      }
    });
  }
  WaitForTerminationSignal();
  ShutdownServer(server->get(), absl::Seconds(1));
  for (auto& queue : queues) queue->Shutdown();
  for (std::thread& thread : waiting) thread.join();
  return 0;
}

using Result = bench::CallRate;

// One read of what --read names; the answer, serialized, into `bytes` when
// it is not null.
grpc::Status ReadOnce(v1::Scoreboard::Stub* stub, const std::string& event,
                      std::string* bytes = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (ReadingBoards()) {
    v1::Board board;
    grpc::Status status = stub->GetBoard(&context, v1::GetScoreboardRequest(), &board);
    if (bytes != nullptr) board.SerializeToString(bytes);
    return status;
  }
  v1::GetScoreRequest request;
  request.set_event(event);
  v1::EventScore score;
  grpc::Status status = stub->GetScore(&context, request, &score);
  if (bytes != nullptr) score.SerializeToString(bytes);
  return status;
}

Result Measure(const std::string& address, const std::string& event, int callers,
               absl::Duration duration) {
  std::vector<std::unique_ptr<v1::Scoreboard::Stub>> stubs;
  for (int c = 0; c < callers; ++c) {
    stubs.push_back(v1::Scoreboard::NewStub(CreateFastReconnectChannel(address)));
  }
  // Warm every connection (and the cache) before the clock starts.
  for (auto& stub : stubs) ReadOnce(stub.get(), event);
  std::vector<std::vector<double>> latencies(callers);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      while (absl::Now() < end) {
        const absl::Time t0 = absl::Now();
        if (!ReadOnce(stubs[c].get(), event).ok()) return;
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

// One load point: `callers` synchronous callers of this binary, or h2load
// with `clients` connections of `streams` concurrent calls each.
struct LoadPoint {
  std::string label;  // "16" or "4x32"
  int callers = 0;
  int clients = 0;
  int streams = 0;
};

absl::StatusOr<std::vector<LoadPoint>> LoadPoints() {
  std::vector<LoadPoint> points;
  const std::string h2load = absl::GetFlag(FLAGS_h2load);
  for (absl::string_view item :
       absl::StrSplit(h2load.empty() ? absl::GetFlag(FLAGS_callers) : h2load, ',')) {
    LoadPoint point;
    point.label = std::string(item);
    const bool ok = h2load.empty() ? absl::SimpleAtoi(item, &point.callers) && point.callers > 0
                                   : std::sscanf(point.label.c_str(), "%dx%d", &point.clients,
                                                 &point.streams) == 2 &&
                                         point.clients > 0 && point.streams > 0;
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", item, "' is not a load point: --callers takes counts (1,4,16), --h2load ",
          "CLIENTSxSTREAMS pairs (4x32,200x1)"));
    }
    points.push_back(std::move(point));
  }
  return points;
}

// h2load against `address` at `point`, each call the read --read names.
Result MeasureWithH2load(const std::string& address, const std::string& event,
                         const LoadPoint& point, absl::Duration duration, const std::string& dir,
                         const std::vector<int>& cpus) {
  std::string message;
  if (!ReadingBoards()) {
    v1::GetScoreRequest request;
    request.set_event(event);
    message = request.SerializeAsString();
  }
  return bench::RunH2load(absl::StrCat("http://", address, "/podium.v1.Scoreboard/",
                                       ReadingBoards() ? "GetBoard" : "GetScore"),
                          bench::GrpcFrame(message), point.clients, point.streams, duration, dir,
                          cpus);
}

int Main(const std::string& self) {
  absl::StatusOr<std::vector<LoadPoint>> points = LoadPoints();
  if (!points.ok()) {
    std::fprintf(stderr, "%s\n", std::string(points.status().message()).c_str());
    return 2;
  }
  if (!absl::GetFlag(FLAGS_h2load).empty() && bench::FindH2load().empty()) {
    std::fprintf(stderr,
                 "--h2load needs h2load on PATH: apt-get install nghttp2-client "
                 "(./scripts/bench installs it)\n");
    return 2;
  }
  // Before any server starts: each takes the mask of the thread that
  // starts it.
  bench::CpuSplit cpus;
  if (!absl::GetFlag(FLAGS_h2load).empty() && absl::GetFlag(FLAGS_pin)) {
    cpus = bench::SplitCpus();
    if (cpus.servers.empty()) {
      std::fprintf(stderr, "fewer than two CPUs: servers and h2load share them\n");
    } else if (absl::Status pinned = bench::PinCallingThread(cpus.servers); !pinned.ok()) {
      std::fprintf(stderr, "%s\n", std::string(pinned.message()).c_str());
      return 1;
    }
  }
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path(), bench::GamesFlags(absl::GetFlag(FLAGS_games)));
  if (absl::Status s = backend.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  harness::FrontendCluster cached(dir.path() + "", backend.address(), 1, "push");
  harness::ScopedTempDir off_dir;
  harness::FrontendCluster uncached(off_dir.path(), backend.address(), 1, "off");
  for (absl::Status s : {cached.StartAll(), uncached.StartAll()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  // The event read, and the reference's answer: the cached frontend's own.
  std::string event = absl::GetFlag(FLAGS_event);
  std::unique_ptr<v1::Scoreboard::Stub> frontend =
      v1::Scoreboard::NewStub(CreateFastReconnectChannel(cached.address(0)));
  if (event.empty()) {
    grpc::ClientContext context;
    v1::Board board;
    grpc::Status status = frontend->GetBoard(&context, v1::GetScoreboardRequest(), &board);
    if (!status.ok() || board.events().empty()) {
      std::fprintf(stderr, "no board from the frontend: %s\n", status.error_message().c_str());
      return 1;
    }
    event = board.events(0).event();
  }
  std::string answer;
  if (grpc::Status s = ReadOnce(frontend.get(), event, &answer); !s.ok()) {
    std::fprintf(stderr, "the frontend does not answer the read: %s\n", s.error_message().c_str());
    return 1;
  }
  const std::string reply_file = dir.path() + "/reference_reply.pb";
  std::ofstream(reply_file, std::ios::binary) << answer;
  const std::string reference = absl::StrCat("127.0.0.1:", harness::PickFreePort());
  absl::StatusOr<harness::Subprocess> reference_server = harness::StartHealthy(
      {self, "--reference_listen=" + reference, "--reference_reply=" + reply_file,
       "--read=" + absl::GetFlag(FLAGS_read),
       absl::StrCat("--reference_queues=", absl::GetFlag(FLAGS_reference_queues))},
      dir.path() + "/reference.log", reference);
  if (!reference_server.ok()) {
    std::fprintf(stderr, "%s\n", std::string(reference_server.status().message()).c_str());
    return 1;
  }
  std::printf("reading %s%s, answers of %zu bytes", ReadingBoards() ? "the board" : "the score of ",
              ReadingBoards() ? "" : event.c_str(), answer.size());
  if (!cpus.servers.empty()) {
    std::printf("; servers on CPU %s, h2load on CPU %s", absl::StrJoin(cpus.servers, ",").c_str(),
                absl::StrJoin(cpus.load, ",").c_str());
  }
  std::printf("\n\n");
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);

  const bool h2load = !absl::GetFlag(FLAGS_h2load).empty();
  std::printf("| %-7s | target    | calls/s  | p50 us  | p99 us  | vs reference |\n",
              h2load ? "c x m" : "callers");
  std::printf("|---------|-----------|----------|---------|---------|--------------|\n");
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"reference", reference}, {"hit", cached.address(0)}, {"miss", uncached.address(0)}};
  for (const LoadPoint& point : *points) {
    std::map<std::string, std::vector<Result>> rounds;
    for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
      // Each round starts one target later, so that no target always
      // follows the same one (the miss's backlog, a server winding down).
      for (size_t k = 0; k < targets.size(); ++k) {
        const auto& [name, address] = targets[(k + static_cast<size_t>(round)) % targets.size()];
        rounds[name].push_back(
            h2load ? MeasureWithH2load(address, event, point, duration, dir.path(), cpus.load)
                   : Measure(address, event, point.callers, duration));
      }
    }
    std::map<std::string, Result> results;
    for (const auto& [name, address] : targets) {
      // Every round, in the order measured: the spread behind the median.
      std::string spread;
      for (const Result& r : rounds[name]) {
        absl::StrAppend(&spread, " ", static_cast<int64_t>(r.calls_per_second));
      }
      std::fprintf(stderr, "%s %s rounds (calls/s):%s\n", point.label.c_str(), name.c_str(),
                   spread.c_str());
    }
    for (auto& [name, all] : rounds) {
      std::sort(all.begin(), all.end(), [](const Result& a, const Result& b) {
        return a.calls_per_second < b.calls_per_second;
      });
      results[name] = all[all.size() / 2];
      if (results[name].calls_per_second <= 0) {
        std::fprintf(stderr, "%s answered no calls at %s: no figure\n", name.c_str(),
                     point.label.c_str());
        return 1;
      }
    }
    for (const auto& [name, address] : targets) {
      const Result& r = results[name];
      const double ratio = r.calls_per_second / results["reference"].calls_per_second;
      std::printf("| %7s | %-9s | %8.0f | %7.1f | %7.1f | %11.0f%% |\n", point.label.c_str(),
                  name.c_str(), r.calls_per_second, r.p50_us, r.p99_us, 100 * ratio);
      std::fflush(stdout);
      if (csv.is_open()) {
        csv << point.label << "," << name << "," << static_cast<int64_t>(r.calls_per_second) << ","
            << r.p50_us << "," << r.p99_us << "," << ratio << "\n";
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
  if (absl::GetFlag(FLAGS_read) != "score" && absl::GetFlag(FLAGS_read) != "board") {
    std::fprintf(stderr, "--read must be score or board, not '%s'\n",
                 absl::GetFlag(FLAGS_read).c_str());
    return 2;
  }
  // As in every Podium binary (common/init.cc): no lock-graph bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!absl::GetFlag(FLAGS_reference_listen).empty()) {
    return podium::ServeReference(absl::GetFlag(FLAGS_reference_listen),
                                  absl::GetFlag(FLAGS_reference_reply));
  }
  const std::string self = podium::harness::SelfPath();
  if (self.empty()) return 1;
  return podium::Main(self);
}
