// Cached GetScore (or GetBoard) throughput and latency through a frontend,
// against a bare gRPC server answering the same message with the same
// (synchronous) threading model, measured in the same run on the same
// machine.
//
// Targets, each a separate process on loopback:
//   reference  this binary in --reference_listen mode: answers with the
//              very message the cached frontend gave (read once at the
//              start); no cache, no locks, no backend
//   hit        podium-frontend --cache=push, every read a cache hit
//   miss       podium-frontend --cache=off, every read goes to the backend
//
//   build/bench/read_bench [--seconds=1] [--rounds=5] [--callers=1,4,16,64]
//                          [--games=FILE] [--read=score|board] [--event=E]
//                          [--csv=FILE]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
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
ABSL_FLAG(std::string, games, "",
          "the backend's games file (e.g. games/paris2024.games); empty: its built-in day");
ABSL_FLAG(std::string, read, "score",
          "what each call reads: score (GetScore of --event) or board (GetBoard)");
ABSL_FLAG(std::string, event, "", "the event GetScore reads; empty: the games' first");
ABSL_FLAG(std::string, reference_listen, "",
          "internal: serve the reference Scoreboard on this address");
ABSL_FLAG(std::string, reference_reply, "",
          "internal: the file holding the reference's answer, serialized");

namespace podium {
namespace {

// The reference: answers GetScore and GetBoard with constants, the
// frontend's own answers.
class ReferenceScoreboard final : public v1::Scoreboard::Service {
 public:
  ReferenceScoreboard(v1::EventScore score, v1::Board board)
      : score_(std::move(score)), board_(std::move(board)) {}
  grpc::Status GetScore(grpc::ServerContext*, const v1::GetScoreRequest*,
                        v1::EventScore* reply) override {
    *reply = score_;
    return grpc::Status::OK;
  }
  grpc::Status GetBoard(grpc::ServerContext*, const v1::GetScoreboardRequest*,
                        v1::Board* reply) override {
    *reply = board_;
    return grpc::Status::OK;
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

int Main(const char* self) {
  std::vector<int> counts;
  for (absl::string_view n : absl::StrSplit(absl::GetFlag(FLAGS_callers), ',')) {
    counts.push_back(std::stoi(std::string(n)));
  }
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  test::ScopedTempDir dir;
  std::vector<std::string> backend_flags;
  if (!absl::GetFlag(FLAGS_games).empty()) {
    backend_flags.push_back(
        "--games=" + std::filesystem::absolute(absl::GetFlag(FLAGS_games)).string());
  }
  test::BackendProcess backend(dir.path(), backend_flags);
  if (absl::Status s = backend.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  test::FrontendCluster cached(dir.path() + "", backend.address(), 1, "push");
  test::ScopedTempDir off_dir;
  test::FrontendCluster uncached(off_dir.path(), backend.address(), 1, "off");
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
  const std::string reference = absl::StrCat("127.0.0.1:", test::PickFreePort());
  absl::StatusOr<test::Subprocess> reference_server = test::StartHealthy(
      {self, "--reference_listen=" + reference, "--reference_reply=" + reply_file,
       "--read=" + absl::GetFlag(FLAGS_read)},
      dir.path() + "/reference.log", reference);
  if (!reference_server.ok()) {
    std::fprintf(stderr, "%s\n", std::string(reference_server.status().message()).c_str());
    return 1;
  }
  std::printf("reading %s%s, answers of %zu bytes\n\n",
              ReadingBoards() ? "the board" : "the score of ", ReadingBoards() ? "" : event.c_str(),
              answer.size());
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
        rounds[name].push_back(Measure(address, event, callers, duration));
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
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return 1;
  self[n] = '\0';
  return podium::Main(self);
}
