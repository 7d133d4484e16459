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
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/measurements.h"
#include "bench/subscribe_readers.h"
#include "common/auth.h"
#include "common/channel.h"
#include "podium/v1/scoreboard.grpc.pb.h"
#include "tests/testing/cluster.h"
#include "tests/testing/temp_dir.h"

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

namespace podium {
namespace {

using bench::StreamCounter;
using bench::Percentile;
using bench::TimedReader;
using bench::ReaderThreads;

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

// The next write of the benchmark's event, each with its own points and
// idempotency key.
v1::RecordScoreRequest ScoreWrite(int* write_number) {
  v1::RecordScoreRequest request;
  request.set_idempotency_key(absl::StrCat("fanout-", ++*write_number));
  request.set_event(BenchEvent());
  v1::TeamPoints* points = request.add_points();
  points->set_team(BenchTeam());
  points->set_points(*write_number);
  return request;
}

// Sends `count` writes at once, all in flight together as a busy second of
// the games would bring them, and waits for every acknowledgement. Returns
// their seqs in order.
absl::StatusOr<std::vector<int64_t>> WriteAtOnce(v1::Backend::Stub* backend, int count,
                                                 int* write_number) {
  struct Call {
    grpc::ClientContext context;
    v1::RecordScoreRequest request;
    v1::WriteReply reply;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < count; ++i) {
    auto call = std::make_unique<Call>();
    AddBearerToken(&call->context, test::BackendProcess::write_token());
    // Bounds the wait below: gRPC reports every call by its deadline.
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->request = ScoreWrite(write_number);
    calls.push_back(std::move(call));
  }
  absl::Mutex mu;
  int left = count;
  for (auto& call : calls) {
    backend->async()->RecordScore(&call->context, &call->request, &call->reply,
                                  [&mu, &left, c = call.get()](grpc::Status status) {
                                    absl::MutexLock lock(&mu);
                                    c->status = std::move(status);
                                    --left;
                                  });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(+[](int* n) { return *n == 0; }, &left));
  }
  std::vector<int64_t> seqs;
  for (const auto& call : calls) {
    if (!call->status.ok()) {
      return absl::UnavailableError(absl::StrCat("burst write: ", call->status.error_message()));
    }
    seqs.push_back(call->reply.change().seq());
  }
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

struct Result {
  double p50_ack_us = 0, p99_ack_us = 0, p50_send_us = 0, p99_send_us = 0;
  double deliveries_per_second = 0;
  double updates_per_message = 0;  // in the burst
  double delivered_share = 0;
};

absl::StatusOr<Result> Measure(const std::string& frontend, v1::Backend::Stub* backend,
                               int subscribers, int* write_number) {
  const int writes = absl::GetFlag(FLAGS_writes);
  const int burst = absl::GetFlag(FLAGS_burst);
  std::vector<std::unique_ptr<v1::Scoreboard::Stub>> stubs;
  for (int c = 0; c < std::max(1, absl::GetFlag(FLAGS_channels)); ++c) {
    stubs.push_back(v1::Scoreboard::NewStub(CreateFastReconnectChannel(frontend)));
  }
  // Heap-held, so that they can be left to gRPC if streams never finish.
  auto opened = std::make_unique<StreamCounter>();
  auto done = std::make_unique<StreamCounter>();
  auto received = std::make_unique<StreamCounter>();
  auto threads = std::make_unique<ReaderThreads>(std::max(1, absl::GetFlag(FLAGS_queues)));
  std::vector<std::unique_ptr<TimedReader>> readers;
  for (int s = 0; s < subscribers; ++s) {
    readers.push_back(std::make_unique<TimedReader>(stubs[s % stubs.size()].get(),
                                               threads->queue(s), BenchEvent(), writes + burst,
                                               opened.get(), done.get(), received.get()));
  }
  // Opening many streams takes a while; say how far it got.
  bool all_open = false;
  for (int waited = 0; !all_open && waited < 120; waited += 5) {
    all_open = opened->WaitFor(subscribers, absl::Seconds(5));
    if (!all_open && done->count() > 0) break;  // refused: no use waiting
    if (!all_open) {
      std::fprintf(stderr, "fanout_bench: %lld of %d subscribers open\n",
                   static_cast<long long>(opened->count()), subscribers);
    }
  }
  std::vector<int64_t> seqs, sent, acked;  // of the latency phase's writes
  absl::Status failure = all_open ? absl::OkStatus()
                                  : absl::DeadlineExceededError("subscribers did not open");
  for (int w = 0; w < writes && failure.ok(); ++w) {
    grpc::ClientContext context;
    AddBearerToken(&context, test::BackendProcess::write_token());
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::WriteReply reply;
    const int64_t t0 = NowMicros();
    grpc::Status status = backend->RecordScore(&context, ScoreWrite(write_number), &reply);
    if (!status.ok()) failure = absl::UnavailableError(status.error_message());
    seqs.push_back(reply.change().seq());
    sent.push_back(t0);
    acked.push_back(NowMicros());
    // Paced: the next write waits until this one reached everyone
    // (bounded; a conflated delivery would otherwise never come).
    received->WaitFor(static_cast<int64_t>(subscribers) * (w + 1), absl::Seconds(10));
  }
  const int64_t burst_start = NowMicros();
  std::vector<int64_t> burst_seqs;
  if (failure.ok()) {
    absl::StatusOr<std::vector<int64_t>> written = WriteAtOnce(backend, burst, write_number);
    if (written.ok()) {
      burst_seqs = *std::move(written);
    } else {
      failure = written.status();
    }
  }
  const int64_t last_seq = burst_seqs.empty() ? (seqs.empty() ? 0 : seqs.back()) : burst_seqs.back();
  // The burst: wait (bounded) until every subscriber has its last write.
  for (int waited_ms = 0; failure.ok() && waited_ms < 60000; ++waited_ms) {
    if (std::all_of(readers.begin(), readers.end(),
                    [&](const auto& r) { return r->max_seq() >= last_seq; })) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  for (auto& reader : readers) reader->Cancel();
  if (!done->WaitFor(subscribers, absl::Seconds(60))) {
    // gRPC may still call the readers and counters: leave them be; the
    // bench ends on this error.
    for (auto& reader : readers) reader.release();
    threads.release();
    opened.release();
    done.release();
    received.release();
    return absl::DeadlineExceededError("streams did not finish");
  }
  if (!failure.ok()) {
    for (const auto& reader : readers) {
      if (!reader->status().ok() && reader->status().error_code() != grpc::StatusCode::CANCELLED) {
        return absl::Status(failure.code(), absl::StrCat(failure.message(), ": ",
                                                          reader->status().error_message()));
      }
    }
    return failure;
  }
  std::vector<double> from_ack, from_send;
  int64_t burst_deliveries = 0;
  int64_t burst_messages = 0;
  int64_t last_receipt = burst_start;
  for (const auto& reader : readers) {
    int64_t last_message = -1;
    for (const auto& [seq, receipt, message] : reader->receipts()) {
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
  result.p50_ack_us = Percentile(from_ack, 0.5);
  result.p99_ack_us = Percentile(from_ack, 0.99);
  result.p50_send_us = Percentile(from_send, 0.5);
  result.p99_send_us = Percentile(from_send, 0.99);
  return result;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "fanout_bench: %s\n", status.ToString().c_str());
  return 1;
}

int Main() {
  std::vector<int> counts;
  for (absl::string_view n : absl::StrSplit(absl::GetFlag(FLAGS_subscribers), ',')) {
    int count = 0;
    if (!absl::SimpleAtoi(n, &count) || count <= 0) {
      return Fail(absl::InvalidArgumentError(absl::StrCat("bad --subscribers entry '", n, "'")));
    }
    counts.push_back(count);
  }
  test::ScopedTempDir dir;
  std::vector<std::string> backend_flags;
  if (!absl::GetFlag(FLAGS_games).empty()) {
    backend_flags.push_back(
        "--games=" + std::filesystem::absolute(absl::GetFlag(FLAGS_games)).string());
  }
  test::BackendProcess backend(dir.path(), backend_flags);
  if (absl::Status s = backend.Start(); !s.ok()) return Fail(s);
  test::FrontendCluster frontend(dir.path(), backend.address(), 1, "push",
                                absl::GetFlag(FLAGS_frontend_flags));
  if (absl::Status s = frontend.StartAll(); !s.ok()) return Fail(s);
  if (absl::Status s = frontend.WaitForMaster(frontend.address(0), absl::Seconds(15));
      !s.ok()) {
    return Fail(s);
  }
  auto stub = backend.NewStub();
  {
    // A board read makes sure the frontend has the games' names before the
    // subscribers come (a Subscribe waits only briefly for them).
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::Board board;
    grpc::Status status = frontend.NewStub(0)->GetBoard(&context, v1::GetScoreboardRequest(), &board);
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
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);

  std::printf("| subscribers | delivered | deliveries/s | p50 from ack us | p99 from ack us "
              "| p50 from send us | p99 from send us | updates/message |\n");
  std::printf("|-------------|-----------|--------------|-----------------|-----------------"
              "|------------------|------------------|-----------------|\n");
  int write_number = 0;
  for (int subscribers : counts) {
    absl::StatusOr<Result> r = Measure(frontend.address(0), stub.get(), subscribers, &write_number);
    if (!r.ok()) return Fail(r.status());
    std::printf("| %11d | %8.1f%% | %12.0f | %15.0f | %15.0f | %16.0f | %16.0f | %15.1f |\n",
                subscribers, 100 * r->delivered_share, r->deliveries_per_second,
                r->p50_ack_us, r->p99_ack_us, r->p50_send_us, r->p99_send_us,
                r->updates_per_message);
    std::fflush(stdout);
    if (csv.is_open()) {
      csv << subscribers << "," << r->delivered_share << ","
          << static_cast<int64_t>(r->deliveries_per_second) << "," << r->p50_ack_us << ","
          << r->p99_ack_us << "," << r->p50_send_us << "," << r->p99_send_us << ","
          << r->updates_per_message << "\n";
    }
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
