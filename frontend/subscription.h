// One client's live subscription, independent of gRPC: which keys it wants,
// what it has been sent, and a bounded queue of what is waiting.
//
// Guarantees (DESIGN 3 and 6): versions of a key only go up, changes leave
// in the order they were queued, and a slow reader cannot make the queue
// grow without bound. The queue holds at most one update per key: a newer
// value of a key that is still waiting replaces it (conflation) and moves
// to the back, so the latest value of every key is always delivered.
//
// While the subscription catches up (replaying missed changes from the
// backend after a resume or a change of master) live changes are held
// aside, then released through the same version filter, so neither source
// can reorder or duplicate the other.
#ifndef PODIUM_FRONTEND_SUBSCRIPTION_H_
#define PODIUM_FRONTEND_SUBSCRIPTION_H_

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

// Thread-safe.
class Subscription {
 public:
  // Starts one write of `update`; it is called again only after
  // WriteDone(). Called with the subscription's lock held: it must not call
  // back into the subscription.
  using StartWrite = std::function<void(const v1::SubscribeUpdate& update)>;

  Subscription(std::vector<std::string> keys, std::string client,
               StartWrite start_write);

  const std::vector<std::string>& keys() const { return keys_; }
  bool Wants(const std::string& key) const { return key_set_.contains(key); }
  const std::string& client() const { return client_; }

  // A live change of one of its keys.
  void Publish(const v1::Change& change);

  // Catching up: live changes are held from BeginCatchUp() until
  // EndCatchUp(); CatchUp() queues replayed changes or snapshot values.
  void BeginCatchUp();
  void CatchUp(const v1::Change& change, bool snapshot);
  void EndCatchUp();

  // The write in flight has completed.
  void WriteDone();
  // No more writes: the stream is finishing.
  void Close();

  // The newest seq queued so far (0 before anything).
  int64_t high_seq() const;
  // Updates dropped by conflation, for logs and tests.
  int64_t conflated() const;
  size_t queued() const;

 private:
  // Queues `update` if it is newer than what was queued for its key.
  void Enqueue(const v1::Change& change, bool snapshot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<std::string> keys_;
  const absl::flat_hash_set<std::string> key_set_;
  const std::string client_;
  const StartWrite start_write_;

  mutable absl::Mutex mu_;
  // Waiting updates, oldest first, at most one per key.
  std::list<v1::SubscribeUpdate> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::list<v1::SubscribeUpdate>::iterator>
      queued_ ABSL_GUARDED_BY(mu_);
  // Highest version queued per key: the monotonic filter.
  absl::flat_hash_map<std::string, int64_t> version_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Change> held_ ABSL_GUARDED_BY(mu_);
  int catching_up_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t high_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t conflated_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_SUBSCRIPTION_H_
