// Push mode, master side. While this frontend is master it holds the
// backend's Watch stream, applies every change to its own cache and sends
// it to each member that registered interest in the change's key.
//
// A member registers a key before it reads that key from the backend; the
// master answers only once the key is in its interest table, so every
// change the member's read could have missed reaches it as a push.
#ifndef PODIUM_FRONTEND_PUSHER_H_
#define PODIUM_FRONTEND_PUSHER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/board_changes.h"
#include "frontend/membership.h"
#include "frontend/peer_sender.h"
#include "podium/v1/backend.grpc.pb.h"

namespace podium {

// Thread-safe.
class Pusher {
 public:
  using ApplyLocal = std::function<void(const v1::Change&, ChangeSource)>;

  // `backend` and `membership` must outlive the pusher.
  Pusher(std::string self_address, v1::Backend::Stub* backend,
         Membership* membership, ApplyLocal apply_local);
  ~Pusher();

  // Becomes the pusher of `epoch`, watching the backend after `from_seq`.
  // Interest registered for an earlier epoch is forgotten.
  void Start(int64_t epoch, int64_t from_seq);
  // Stops watching and sending (this frontend is no longer master).
  void Stop();

  // Registers `member`'s interest in `keys`. FAILED_PRECONDITION unless
  // this frontend is pushing for `epoch`. Returns the watched seq.
  absl::StatusOr<int64_t> AddInterest(const std::string& member, int64_t epoch,
                                      const std::vector<std::string>& keys);

  int64_t watched_seq() const;

 private:
  void WatchLoop(int64_t epoch);
  // Applies and forwards the whole board, then watches on from its seq.
  grpc::Status CatchUpFromBoard();
  void Forward(const v1::Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Running(int64_t epoch) const;

  const std::string self_address_;
  v1::Backend::Stub* const backend_;
  Membership* const membership_;
  const ApplyLocal apply_local_;

  mutable absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t watched_seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::set<std::string>> interest_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<PeerSender>> senders_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* watch_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread watcher_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_PUSHER_H_
