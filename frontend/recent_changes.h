// The last changes a frontend applied, kept so that subscriptions resuming
// from a nearby seq (the survivors' share of a dead frontend's clients, a
// change of master) catch up from memory instead of each reading the
// backend.
//
// A replay is served from here only when nothing of it can be missing. For
// each key the buffer records the seq after which it holds every change of
// that key (Cover): from a backend read of the key's history, made after
// the frontend's feed of that key was established, so that whatever came
// after the read arrives through the feed. Evicting the oldest changes (the
// buffer is bounded) raises the floor below which nothing is vouched for,
// and a gap in the feed (a change of master, a reset, a whole board instead
// of the change log) forgets every key's coverage at once (Forget); a
// coverage computed before the gap is then refused by its generation.
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

  // A change this frontend learned, live or read from the backend's log, in
  // any order; one already held is ignored. The oldest go beyond capacity.
  void Add(const EncodedChangePtr& change);

  // The feed may have missed changes: no key is vouched for any more.
  void Forget();
  // Generation of the coverage: Forget() moves it on.
  int64_t generation() const;

  // Every change of `keys` after `after_seq` has been Added, or will be by
  // the feed, provided no Forget() came after `generation` was read.
  void Cover(const std::vector<std::string>& keys, int64_t after_seq, int64_t generation);

  // The held changes of `keys` after `after_seq`, oldest first, when the
  // buffer vouches for every one of them; nullopt when it cannot.
  std::optional<std::vector<EncodedChangePtr>> Since(const absl::flat_hash_set<std::string>& keys,
                                                     int64_t after_seq) const;

  size_t size() const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  // By (seq, key): a write may change several keys under one seq.
  absl::btree_map<std::pair<int64_t, std::string>, EncodedChangePtr> changes_
      ABSL_GUARDED_BY(mu_);
  // The highest seq evicted: nothing at or below it is vouched for.
  int64_t floor_ ABSL_GUARDED_BY(mu_) = 0;
  // Per key, the seq after which every change of it is held.
  absl::flat_hash_map<std::string, int64_t> covered_after_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_RECENT_CHANGES_H_
