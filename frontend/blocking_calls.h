// The threads on which a frontend runs the calls that may wait: reads
// that go to the backend (cache misses, history) and peer calls that may
// take the election's locks or stop a thread. Every service of a frontend
// is on gRPC's callback API, whose threads must never block: what is
// answered at once (a cache hit) is answered there, the rest is handed
// over here. Bounded, so that a slow backend turns the excess away with a
// clear error instead of queueing without end.
#ifndef PODIUM_FRONTEND_BLOCKING_CALLS_H_
#define PODIUM_FRONTEND_BLOCKING_CALLS_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace podium {

// Thread-safe.
class BlockingCalls {
 public:
  // A backend read takes well under a millisecond when the backend is
  // well; while it is slow, calls beyond the waiting limit are refused.
  static constexpr int kDefaultThreads = 8;
  static constexpr size_t kDefaultMaxWaiting = 4096;

  explicit BlockingCalls(int threads = kDefaultThreads, size_t max_waiting = kDefaultMaxWaiting);
  // Runs every call already queued, then joins the threads.
  ~BlockingCalls();

  BlockingCalls(const BlockingCalls&) = delete;
  BlockingCalls& operator=(const BlockingCalls&) = delete;

  // Queues `call` to run on one of the threads. Returns false, and never
  // runs it, when `max_waiting` calls are waiting already.
  bool Run(std::function<void()> call);

  // For a callback-API handler: ends the call with the status `call`
  // returns, run on one of the threads (`call` fills the reply itself);
  // when too many calls wait already, ends it at once RESOURCE_EXHAUSTED,
  // saying what waits (`what`, e.g. "reads waiting on its backend").
  grpc::ServerUnaryReactor* RunAndFinish(grpc::CallbackServerContext* context,
                                         absl::string_view what,
                                         std::function<grpc::Status()> call);

  size_t max_waiting() const { return max_waiting_; }

 private:
  void Loop();

  const size_t max_waiting_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> waiting_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_BLOCKING_CALLS_H_
