// Completion queues of gRPC's async client API, each drained by a thread
// of its own, for clients that run thousands of streams (the subscriber
// fleet, the fan-out benchmark's readers): streams are spread over the
// queues so that no one thread serves them all.
#ifndef PODIUM_HARNESS_COMPLETION_THREADS_H_
#define PODIUM_HARNESS_COMPLETION_THREADS_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace podium::harness {

// Not thread-safe, except that queue() may be called from any thread.
class CompletionThreads {
 public:
  // Called on a queue's thread for each completed operation.
  using Dispatch = void (*)(void* tag, bool ok);

  // `queues` queues (at least one), each with a thread handing its
  // completions to `dispatch`.
  CompletionThreads(int queues, Dispatch dispatch);
  // Stop().
  ~CompletionThreads();

  // Queue i, round robin over them.
  grpc::CompletionQueue* queue(size_t i) const { return queues_[i % queues_.size()].get(); }
  size_t size() const { return queues_.size(); }

  // Shuts the queues down and joins their threads, once every operation
  // started on them has completed. Idempotent.
  void Stop();

 private:
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::thread> threads_;
};

}  // namespace podium::harness

#endif  // PODIUM_HARNESS_COMPLETION_THREADS_H_
