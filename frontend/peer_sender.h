// The master's ordered channel of invalidations to one member. Changes are
// queued and sent in batches, in order, and retried; a member thus never
// sees a newer change of a key before an older one.
//
// When changes cannot reach the member (it was declared dead, or it fell
// more than max_queued changes behind) they are dropped rather than held
// without bound, and the member is owed a reset: once it is seen alive
// again, the next request carries `reset` and no changes, so the member
// stops trusting what it cached and its subscriptions catch up from the
// backend; later changes follow the reset in order. Every request carries
// the number of resets sent before it, so that the member can discard a
// batch that timed out here but reaches it after the reset that replaced
// it. Only a member that
// refuses our epoch (FAILED_PRECONDITION: it follows another master) is
// given up for good; it registers its keys with whoever it follows next.
#ifndef PODIUM_FRONTEND_PEER_SENDER_H_
#define PODIUM_FRONTEND_PEER_SENDER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "podium/v1/peer.grpc.pb.h"

namespace podium {

struct PeerSenderOptions {
  // Changes waiting beyond this many are dropped for a reset.
  size_t max_queued = 65536;
  // One Invalidate's deadline.
  absl::Duration send_timeout = absl::Seconds(1);
  // Adds the cluster credential to each Invalidate; may be empty.
  std::function<void(grpc::ClientContext*)> authorize;
};

// Thread-safe.
class PeerSender {
 public:
  using IsAlive = std::function<bool()>;

  PeerSender(std::string master, int64_t epoch, std::string member,
             v1::FrontendPeer::Stub* stub, IsAlive is_alive,
             PeerSenderOptions options = {});
  // Stops sending; what is still queued is dropped.
  ~PeerSender();

  void Enqueue(const v1::Change& change, int64_t watched_seq);
  // False once the member refused our epoch; nothing is sent any more.
  bool healthy() const;
  // Whether changes were dropped and the reset is not yet under way. The
  // master should not take new interest from the member meanwhile: a value
  // it reads now could miss a dropped change.
  bool owes_reset() const;
  // Resets sent (delivered or not), for logs and tests.
  int64_t resets() const;

 private:
  void Loop();
  // Drops what is queued; the member is owed a reset.
  void LoseLocked(const std::string& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `request` until it lands (true), or the sender stops or the
  // member is lost or refuses us (false).
  bool Deliver(const v1::InvalidateRequest& request);

  const std::string master_;
  const int64_t epoch_;
  const std::string member_;
  v1::FrontendPeer::Stub* const stub_;
  const IsAlive is_alive_;
  const PeerSenderOptions options_;

  mutable absl::Mutex mu_;
  // Each change with the master's watched seq when it was queued: a batch
  // vouches only for what it carries, so it reports its last change's.
  struct Queued {
    v1::Change change;
    int64_t watched_seq;
  };
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool healthy_ ABSL_GUARDED_BY(mu_) = true;
  bool owes_reset_ ABSL_GUARDED_BY(mu_) = false;
  int64_t resets_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_PEER_SENDER_H_
