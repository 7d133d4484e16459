// Keeps a client's connections moving. gRPC (1.51) advances a connection
// attempt only while some thread polls the channel, and fail-fast calls on
// a channel in TRANSIENT_FAILURE fail at once without polling; a client
// that only makes such calls would notice a restarted server late. One
// thread here watches every channel of a client through one completion
// queue (so a client talking to many frontends needs no thread per
// channel) and logs their state changes at verbosity 1. A library cannot
// count on its host having tuned gRPC's backup poller, so it polls itself.
#ifndef PODIUM_CLIENT_CONNECTION_WATCHER_H_
#define PODIUM_CLIENT_CONNECTION_WATCHER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace podium {

// Thread-safe.
class ConnectionWatcher {
 public:
  ConnectionWatcher();
  ConnectionWatcher(const ConnectionWatcher&) = delete;
  ConnectionWatcher& operator=(const ConnectionWatcher&) = delete;
  // Stops watching; waits (at most about one slice, 200 ms) for gRPC to
  // hand back every watch.
  ~ConnectionWatcher();

  // Watches `channel` (named `address` in the log) until Forget(channel)
  // or destruction; the watcher holds a reference meanwhile.
  void Watch(const std::string& address, std::shared_ptr<grpc::Channel> channel);
  // Stops watching `channel` within about one slice.
  void Forget(const grpc::Channel* channel);

 private:
  struct Entry;

  void Arm(Entry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();

  grpc::CompletionQueue cq_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Entry*> entries_ ABSL_GUARDED_BY(mu_);
  // Watches handed to gRPC and not yet returned.
  int armed_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace podium

#endif  // PODIUM_CLIENT_CONNECTION_WATCHER_H_
