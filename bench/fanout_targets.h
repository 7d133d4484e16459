// What fanout_bench (and stream_memory_bench) fan out from, behind one
// interface so that Podium, the gRPC floor (fanout_floor.h) and Redis
// pub/sub are measured by the same code: N subscribers of one key,
// publishes of numbered changes, and when each subscriber received each
// change.
//
//   GrpcFanout   Subscribe streams on gRPC's async API (TimedReader) to a
//                Scoreboard server, publishes as Backend.RecordScore calls:
//                Podium (a frontend, writes through the backend) or the
//                floor (both on one server).
//   RedisFanout  Redis pub/sub (redis_fanout.h).
//   SseFanout    Server-Sent Events streams of a frontend's HTTP plane,
//                read by one epoll loop (sse_fanout.h); publishes as
//                GrpcFanout's Podium does.
#ifndef PODIUM_BENCH_FANOUT_TARGETS_H_
#define PODIUM_BENCH_FANOUT_TARGETS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/subscribe_readers.h"
#include "harness/completion_threads.h"
#include "podium/v1/backend.grpc.pb.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium::bench {

using Receipt = TimedReader::Receipt;

class FanoutTarget {
 public:
  virtual ~FanoutTarget() = default;
  // Opens `subscribers` subscribers of the key; OK once each has its
  // opening (snapshot or subscription confirmed).
  virtual absl::Status Open(int subscribers) = 0;
  // Publishes `count` changes at once and waits for every acknowledgement;
  // their seqs, in order.
  virtual absl::StatusOr<std::vector<int64_t>> Publish(int count) = 0;
  // Changes received so far, over all subscribers.
  virtual int64_t received() const = 0;
  // Whether every subscriber has received `seq` (or a later change).
  virtual bool AllHave(int64_t seq) const = 0;
  // Ends every subscriber; afterwards, each one's receipts.
  virtual absl::Status Close() = 0;
  virtual std::vector<const std::vector<Receipt>*> receipts() const = 0;
  // The process doing the fan-out, whose CPU time is charged to it.
  virtual pid_t server() const = 0;
  // The growth of that process's resident memory from before Open() to
  // the subscribers open and idle, per subscriber, in bytes; -1 where it
  // is not measured (a server process shared with earlier measurements,
  // whose freed memory the new subscribers would reuse).
  virtual double idle_bytes_per_subscriber() const { return -1; }
};

// The change every target publishes as its `number`th: the event's first
// team at `number` points.
v1::RecordScoreRequest FanoutWrite(const std::string& event, const std::string& team, int number);

// Writes `count` changes of `event` through `backend` at once (numbered
// from ++*writes, their idempotency keys) and waits for every
// acknowledgement; their seqs, in order.
absl::StatusOr<std::vector<int64_t>> PublishThroughBackend(v1::Backend::Stub* backend,
                                                           const std::string& event,
                                                           const std::string& team, int count,
                                                           int* writes);

class GrpcFanout : public FanoutTarget {
 public:
  // Subscribes to `event` at `subscribe_address`, publishes through
  // `backend`; `server` is the process serving the streams. `channels`
  // connections and `queues` completion queues carry the streams;
  // `expected` receipts are reserved per subscriber. `*writes` numbers the
  // writes (their idempotency keys), across the targets made for one
  // backend.
  GrpcFanout(std::string subscribe_address, v1::Backend::Stub* backend, pid_t server,
             std::string event, std::string team, int channels, int queues, int expected,
             int* writes);
  ~GrpcFanout() override;

  absl::Status Open(int subscribers) override;
  absl::StatusOr<std::vector<int64_t>> Publish(int count) override;
  int64_t received() const override { return received_->count(); }
  bool AllHave(int64_t seq) const override;
  absl::Status Close() override;
  std::vector<const std::vector<Receipt>*> receipts() const override;
  pid_t server() const override { return server_; }
  // Measures the server's memory per idle stream in the next Open(): for a
  // server started afresh for it, whose growth is then the streams' own.
  void MeasureIdleMemory() { measure_idle_memory_ = true; }
  double idle_bytes_per_subscriber() const override { return idle_bytes_per_subscriber_; }

 private:
  const std::string subscribe_address_;
  v1::Backend::Stub* const backend_;
  const pid_t server_;
  const std::string event_, team_;
  const int channels_, queues_, expected_;
  int* const writes_;
  // Heap-held, so that they can be left to gRPC if streams never finish.
  std::vector<std::unique_ptr<v1::Scoreboard::Stub>> stubs_;
  std::unique_ptr<StreamCounter> opened_, done_, received_;
  std::unique_ptr<harness::CompletionThreads> threads_;
  std::vector<std::unique_ptr<TimedReader>> readers_;
  bool abandoned_ = false;
  bool closed_ = false;
  bool measure_idle_memory_ = false;
  double idle_bytes_per_subscriber_ = -1;
};

}  // namespace podium::bench

#endif  // PODIUM_BENCH_FANOUT_TARGETS_H_
