// The last changes a frontend applied, kept so that subscriptions resuming
// from a nearby seq (the survivors' share of a dead frontend's clients, a
// change of master) catch up from memory instead of each reading the
// backend.
//
// A replay is served from here only when nothing of it can be missing. For
// each key the buffer records a range of seqs over which it holds every
// change of that key (Cover), from a backend read of the log or a snapshot
// read, either made after the frontend's feed of the key was registered:
// whatever came after the read arrives through the feed, which delivers
// every registered key's changes in seq order. So a key's history is held
// from its covered seq up to the later of the read's end and the feed's
// position, and nothing above that is served: a read made for other keys
// may already hold newer changes of this one while the feed has not yet
// brought the ones between (a replay that took them would make the
// subscription's version filter drop the older ones when they come).
//
// Evicting the oldest changes (the buffer is bounded) raises the floor
// below which nothing is vouched for, and a gap in the feed (a change of
// master, a reset, a whole board instead of the change log) forgets every
// key's coverage at once (Forget); a coverage computed before the gap is
// then refused by its generation.
#ifndef PODIUM_FRONTEND_RECENT_CHANGES_H_
#define PODIUM_FRONTEND_RECENT_CHANGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "frontend/subscription.h"

namespace podium {

// Thread-safe.
class RecentChanges {
 public:
  static constexpr size_t kDefaultCapacity = 2048;
  explicit RecentChanges(size_t capacity = kDefaultCapacity);

  // A change the feed delivered (push, poll or the master's watch), in seq
  // order; it moves the feed's position.
  void AddLive(const EncodedChangePtr& change);
  // A change read from the backend's log, in any order. Either way one
  // already held is ignored, and the oldest go beyond capacity.
  void AddHistory(const EncodedChangePtr& change);

  // The feed may have missed changes: no key is vouched for any more.
  void Forget();
  // Generation of the coverage: Forget() moves it on.
  int64_t generation() const;

  // Every change of `keys` with a seq in (after_seq, through_seq] has been
  // added, and the feed of these keys was registered before the read that
  // says so; refused if a Forget() came after `generation` was read.
  void Cover(const std::vector<std::string>& keys, int64_t after_seq, int64_t through_seq,
             int64_t generation);

  // The held changes of `keys` after `after_seq`, oldest first, as far as
  // the buffer vouches for each key (see above); nullopt when it cannot
  // vouch for one of them from `after_seq` on.
  std::optional<std::vector<EncodedChangePtr>> Since(const absl::flat_hash_set<std::string>& keys,
                                                     int64_t after_seq) const;

  size_t size() const;

 private:
  struct Coverage {
    int64_t after = 0;    // every change above this one is held ...
    int64_t through = 0;  // ... up to here, and to the feed's position
  };
  void AddLocked(const EncodedChangePtr& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  // By (seq, key): a write may change several keys under one seq.
  absl::btree_map<std::pair<int64_t, std::string>, EncodedChangePtr> changes_ ABSL_GUARDED_BY(mu_);
  // The highest seq evicted: nothing at or below it is vouched for.
  int64_t floor_ ABSL_GUARDED_BY(mu_) = 0;
  // The highest seq the feed delivered since the last gap.
  int64_t feed_through_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Coverage> coverage_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_RECENT_CHANGES_H_
