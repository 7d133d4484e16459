#include "bench/fanout_floor.h"

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/measurements.h"
#include "common/server.h"
#include "harness/cluster.h"
#include "podium/v1/backend.grpc.pb.h"
#include "podium/v1/scoreboard.grpc.pb.h"

ABSL_FLAG(int, floor_queues, 0,
          "the fan-out floor's completion queues (a thread each); 0: one per core, as the "
          "frontend's --stream_threads");
ABSL_FLAG(std::string, floor_listen, "",
          "internal: serve the fan-out floor on this address instead (the benchmark starts "
          "itself so)");

namespace podium::bench {
namespace {

// Subscribe on async queues; every other read answered UNIMPLEMENTED by
// gRPC's callback defaults, so that no synchronous thread pool is started.
using FloorScoreboard = v1::Scoreboard::WithRawMethod_Subscribe<
    v1::Scoreboard::WithCallbackMethod_GetScore<v1::Scoreboard::WithCallbackMethod_GetMedals<
        v1::Scoreboard::WithCallbackMethod_GetBoard<v1::Scoreboard::WithCallbackMethod_GetStandings<
            v1::Scoreboard::WithCallbackMethod_GetHistory<
                v1::Scoreboard::WithCallbackMethod_ListFrontends<v1::Scoreboard::Service>>>>>>>;

// Messages a stream holds while it writes; a benchmark burst is far below.
constexpr size_t kMaxWaiting = 1024;

// One serialized SubscribeUpdates and the seq of its change.
struct Message {
  int64_t seq = 0;
  std::shared_ptr<const grpc::ByteBuffer> bytes;
};

Message Serialize(const v1::SubscribeUpdates& updates, int64_t seq) {
  const std::string bytes = updates.SerializeAsString();
  grpc::Slice slice(bytes);
  return Message{seq, std::make_shared<const grpc::ByteBuffer>(&slice, 1)};
}

class Queue;
struct Stream;

// What a completion is for: an operation of a stream, or a queue's doorbell.
struct Tag {
  enum Kind { kAccepted, kWritten, kDone, kDoorbell };
  Kind kind;
  Stream* stream;
};

// One Subscribe call. Touched only by its queue's thread.
struct Stream {
  grpc::ServerContext context;
  grpc::ByteBuffer request;
  grpc::ServerAsyncWriter<grpc::ByteBuffer> writer{&context};
  Tag accepted{Tag::kAccepted, this};
  Tag written{Tag::kWritten, this};
  Tag done{Tag::kDone, this};
  bool listed = false;  // accepted, and in its queue's streams
  size_t index = 0;     // there
  bool writing = false;
  bool ended = false;
  Message in_flight;
  // Messages waiting for the write in flight, oldest first; beyond
  // kMaxWaiting the oldest are dropped.
  std::deque<Message> waiting;
};

// A completion queue, its thread and its streams.
class Queue {
 public:
  Queue(std::unique_ptr<grpc::ServerCompletionQueue> cq, FloorScoreboard* service)
      : cq_(std::move(cq)), service_(service) {
    v1::SubscribeUpdates opening;
    opening.add_updates()->set_snapshot(true);
    snapshot_ = Serialize(opening, 0);
  }

  // From any thread: every stream of this queue is to get `message`.
  void Post(Message message) {
    absl::MutexLock lock(&mu_);
    posted_.push_back(std::move(message));
    if (rung_) return;
    rung_ = true;
    // Due in the past: gRPC rounds "now" up to its next millisecond tick.
    doorbell_.Set(cq_.get(), gpr_inf_past(GPR_CLOCK_MONOTONIC), &doorbell_tag_);
  }

  void Run() {
    Accept();
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) Complete(static_cast<Tag*>(tag), ok);
  }

  void Shutdown() { cq_->Shutdown(); }

 private:
  void Accept() {
    auto* stream = new Stream;
    stream->context.AsyncNotifyWhenDone(&stream->done);
    service_->RequestSubscribe(&stream->context, &stream->request, &stream->writer, cq_.get(),
                               cq_.get(), &stream->accepted);
  }

  void Complete(Tag* tag, bool ok) {
    Stream* stream = tag->stream;
    switch (tag->kind) {
      case Tag::kDoorbell: {
        std::vector<Message> messages;
        {
          absl::MutexLock lock(&mu_);
          messages.swap(posted_);
          rung_ = false;
        }
        // Concurrent publishes may have been posted out of order.
        std::sort(messages.begin(), messages.end(),
                  [](const Message& a, const Message& b) { return a.seq < b.seq; });
        for (const Message& message : messages) {
          for (Stream* each : streams_) Offer(each, message);
        }
        return;
      }
      case Tag::kAccepted:
        if (!ok) return;  // shutting down; the process ends
        Accept();
        stream->listed = true;
        stream->index = streams_.size();
        streams_.push_back(stream);
        Write(stream, snapshot_);
        return;
      case Tag::kWritten:
        stream->writing = false;
        stream->in_flight = Message();
        if (stream->ended) {
          delete stream;
        } else if (ok && !stream->waiting.empty()) {
          Message message = std::move(stream->waiting.front());
          stream->waiting.pop_front();
          Write(stream, std::move(message));
        }
        return;
      case Tag::kDone:
        if (!stream->listed) return;  // never accepted: shutting down
        stream->ended = true;
        streams_.back()->index = stream->index;
        std::swap(streams_[stream->index], streams_.back());
        streams_.pop_back();
        if (!stream->writing) delete stream;
        return;
    }
  }

  void Offer(Stream* stream, const Message& message) {
    if (stream->writing) {
      if (stream->waiting.size() == kMaxWaiting) stream->waiting.pop_front();
      stream->waiting.push_back(message);
      return;
    }
    Write(stream, message);
  }

  void Write(Stream* stream, Message message) {
    stream->writing = true;
    stream->in_flight = std::move(message);
    stream->writer.Write(*stream->in_flight.bytes, &stream->written);
  }

  const std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  FloorScoreboard* const service_;
  Message snapshot_;
  std::vector<Stream*> streams_;  // accepted and not yet done
  Tag doorbell_tag_{Tag::kDoorbell, nullptr};
  absl::Mutex mu_;
  std::vector<Message> posted_ ABSL_GUARDED_BY(mu_);
  bool rung_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Alarm doorbell_ ABSL_GUARDED_BY(mu_);
};

// The publish: RecordScore makes the next change and hands it to every
// queue, serialized once.
class FloorBackend final : public v1::Backend::CallbackService {
 public:
  explicit FloorBackend(const std::vector<std::unique_ptr<Queue>>* queues) : queues_(queues) {}

  grpc::ServerUnaryReactor* RecordScore(grpc::CallbackServerContext* context,
                                        const v1::RecordScoreRequest* request,
                                        v1::WriteReply* reply) override {
    v1::SubscribeUpdates updates;
    v1::Change* change = updates.add_updates()->mutable_change();
    change->set_seq(seq_.fetch_add(1) + 1);
    v1::EventScore* score = change->mutable_event();
    score->set_event(request->event());
    *score->mutable_points() = request->points();
    score->set_version(change->seq());
    score->set_updated_unix_micros(absl::ToUnixMicros(absl::Now()));
    const Message message = Serialize(updates, change->seq());
    for (const auto& queue : *queues_) queue->Post(message);
    *reply->mutable_change() = *change;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::vector<std::unique_ptr<Queue>>* const queues_;
  std::atomic<int64_t> seq_{0};
};

// Serves on `address` with `queues` completion queues until SIGINT or
// SIGTERM; returns the process's exit status.
int ServeFanoutFloor(const std::string& address, int queues) {
  BlockTerminationSignals();
  FloorScoreboard scoreboard;
  std::vector<std::unique_ptr<Queue>> floor_queues;
  FloorBackend backend(&floor_queues);
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      StartServer(address, {&scoreboard, &backend}, nullptr, [&](grpc::ServerBuilder* builder) {
        for (int i = 0; i < std::max(1, queues); ++i) {
          floor_queues.push_back(
              std::make_unique<Queue>(builder->AddCompletionQueue(), &scoreboard));
        }
      });
  if (!server.ok()) {
    std::fprintf(stderr, "fan-out floor: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::vector<std::thread> threads;
  for (const auto& queue : floor_queues) threads.emplace_back([q = queue.get()] { q->Run(); });
  WaitForTerminationSignal();
  ShutdownServer(server->get(), absl::Seconds(1));
  for (const auto& queue : floor_queues) queue->Shutdown();
  for (std::thread& thread : threads) thread.join();
  return 0;
}

}  // namespace

absl::StatusOr<harness::Subprocess> StartFanoutFloor(const std::string& self,
                                                     const std::string& log, std::string* address) {
  int queues = absl::GetFlag(FLAGS_floor_queues);
  if (queues <= 0) queues = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  *address = absl::StrCat("127.0.0.1:", harness::PickFreePort());
  return harness::StartHealthy(
      {self, "--floor_listen=" + *address, absl::StrCat("--floor_queues=", queues)}, log, *address);
}

int FloorBenchMain(int argc, char** argv, int (*run)(const std::string& self)) {
  absl::ParseCommandLine(argc, argv);
  RaiseFileLimit();
  // As in every Podium binary (common/init.cc): no lock-graph bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!absl::GetFlag(FLAGS_floor_listen).empty()) {
    return ServeFanoutFloor(absl::GetFlag(FLAGS_floor_listen), absl::GetFlag(FLAGS_floor_queues));
  }
  const std::string self = harness::SelfPath();
  if (self.empty()) return 1;
  return run(self);
}

}  // namespace podium::bench
