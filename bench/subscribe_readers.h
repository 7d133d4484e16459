// Subscribers for the fan-out benchmark: async-API Subscribe streams of
// one event that record when each change arrived, spread over completion
// queues each drained by a thread of its own, and the lock-free counters
// that tell the benchmark how many streams reached a state.
#ifndef PODIUM_BENCH_SUBSCRIBE_READERS_H_
#define PODIUM_BENCH_SUBSCRIBE_READERS_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium::bench {

// Counts streams that reached a state, and waits for a number of them.
// Lock-free to count: every delivery of every stream passes here, and a
// mutex would make the bench, not the frontend, the bottleneck.
class StreamCounter {
 public:
  void Add() { count_.fetch_add(1, std::memory_order_relaxed); }
  int64_t count() const { return count_.load(std::memory_order_relaxed); }
  bool WaitFor(int64_t n, absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    while (count() < n) {
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(absl::Microseconds(100));
    }
    return true;
  }

 private:
  std::atomic<int64_t> count_{0};
};

// One subscriber on gRPC's async API. Reads one update at a time and
// records (seq, receipt time) of every change; only the thread draining its
// completion queue touches the records until the stream has finished.
//
// Not the callback API: that puts every stream of the process on one
// completion queue, and Debian's libgrpc (built with assertions) checks
// each completion against a linear list of that queue's outstanding tags,
// so 10,000 streams would make the benchmark's own reads quadratic.
class TimedReader {
 public:
  TimedReader(v1::Scoreboard::Stub* stub, grpc::CompletionQueue* cq, const std::string& event,
              int writes, StreamCounter* opened, StreamCounter* done, StreamCounter* received)
      : opened_(opened), done_(done), received_(received) {
    request_.add_events(event);
    request_.set_format(v1::SUBSCRIBE_FORMAT_BATCHES);
    receipts_.reserve(writes);
    // A connection that fails once under the load of opening thousands of
    // streams is retried rather than failing the stream.
    context_.set_wait_for_ready(true);
    stream_ = stub->PrepareAsyncSubscribe(&context_, request_, cq);
    stream_->StartCall(&started_);
  }

  // A completion-queue tag: which operation of which reader completed.
  struct Op {
    TimedReader* reader;
  };

  // Called from the completion queue's thread when `op` completed.
  void Proceed(const Op* op, bool ok);

  void Cancel() { context_.TryCancel(); }
  int64_t max_seq() const { return max_seq_.load(std::memory_order_acquire); }
  // Only after the stream finished.
  // One per change received (snapshots aside), in order of arrival.
  struct Receipt {
    int64_t seq;
    int64_t micros;   // when its message arrived
    int64_t message;  // which message of the stream carried it
  };
  const std::vector<Receipt>& receipts() const { return receipts_; }
  const grpc::Status& status() const { return status_; }

 private:
  Op started_{this}, read_{this}, finished_{this};
  StreamCounter* const opened_;
  StreamCounter* const done_;
  StreamCounter* const received_;
  std::atomic<int64_t> max_seq_{0};
  grpc::ClientContext context_;
  v1::SubscribeRequest request_;
  std::unique_ptr<grpc::ClientAsyncReader<v1::SubscribeUpdates>> stream_;
  v1::SubscribeUpdates message_;
  std::vector<Receipt> receipts_;
  int64_t messages_ = 0;
  grpc::Status status_;
};

}  // namespace podium::bench

#endif  // PODIUM_BENCH_SUBSCRIBE_READERS_H_
