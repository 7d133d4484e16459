// Thousands of Subscribe streams at one frontend, on gRPC's async API:
// spread over a few channels (connections) and completion queues (a
// thread each), every update of every stream recorded with its arrival
// time. For the tests and benchmarks of failover at scale, which need the
// frontend, not the subscribers, to be the bottleneck.
//
// Not the callback API: that puts every stream of the process on one
// completion queue, and Debian's libgrpc (built with assertions) checks
// each completion against a linear list of that queue's outstanding tags.
#ifndef PODIUM_HARNESS_SUBSCRIBER_FLEET_H_
#define PODIUM_HARNESS_SUBSCRIBER_FLEET_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "harness/completion_threads.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium::harness {

// One update as a stream received it.
struct Receipt {
  std::string key;  // ChangeKey of the change
  int64_t seq = 0;
  bool snapshot = false;
  bool conflated = false;
  absl::Time at;
};

// Thread-safe.
class SubscriberFleet {
 public:
  struct Options {
    int channels = 16;
    int queues = 8;
  };
  SubscriberFleet(const std::string& frontend, Options options);
  // Cancels every stream and waits for them to finish.
  ~SubscriberFleet();

  // Opens one stream of `request` (format set to batches).
  void Add(const v1::SubscribeRequest& request);
  // Waits until every stream received a snapshot of each key it asked for
  // (events and teams by name), or one ended; what is missing otherwise.
  absl::Status WaitForSnapshots(absl::Duration timeout);
  // Waits until every stream holds a change of each of `final_seqs`' keys
  // that it asked for at or above its seq; the first that does not on
  // timeout.
  absl::Status WaitForSeqs(const std::vector<std::pair<std::string, int64_t>>& final_seqs,
                           absl::Duration timeout);

  int size() const;
  // Copies of what stream i received so far, in order.
  std::vector<Receipt> receipts(int i) const;
  // When stream i received its first change with a seq above `seq`;
  // InfiniteFuture if it has not.
  absl::Time FirstAbove(int i, int64_t seq) const;
  // Streams that ended (by the frontend's doing), and how.
  std::vector<grpc::Status> ended() const;

 private:
  class Stream;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::Scoreboard::Stub>> stubs_;
  CompletionThreads threads_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Stream>> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podium::harness

#endif  // PODIUM_HARNESS_SUBSCRIBER_FLEET_H_
