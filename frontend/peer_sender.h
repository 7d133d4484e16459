// The master's ordered channel of invalidations to one member. Changes are
// queued and sent in batches, in order, retried until the member takes
// them or is declared dead; a member thus never sees a newer change of a
// key before an older one, nor misses one while it is alive.
#ifndef PODIUM_FRONTEND_PEER_SENDER_H_
#define PODIUM_FRONTEND_PEER_SENDER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "podium/v1/peer.grpc.pb.h"

namespace podium {

// Thread-safe.
class PeerSender {
 public:
  using IsAlive = std::function<bool()>;

  PeerSender(std::string master, int64_t epoch, std::string member,
             v1::FrontendPeer::Stub* stub, IsAlive is_alive);
  // Stops sending; what is still queued is dropped.
  ~PeerSender();

  void Enqueue(const v1::Change& change, int64_t watched_seq);
  // False once the member was found dead and the queue dropped.
  bool healthy() const;

 private:
  void Loop();

  const std::string master_;
  const int64_t epoch_;
  const std::string member_;
  v1::FrontendPeer::Stub* const stub_;
  const IsAlive is_alive_;

  mutable absl::Mutex mu_;
  std::deque<v1::Change> queue_ ABSL_GUARDED_BY(mu_);
  int64_t watched_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool healthy_ ABSL_GUARDED_BY(mu_) = true;
  std::thread thread_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_PEER_SENDER_H_
