// A frontend's cache: the newest value it knows of each key, as a Change
// (whose seq is the value's version).
//
// Versions never go back (guarantee 3). Every write path keeps the newer of
// the stored and the offered value, and invalidation keeps each entry as a
// floor, merely marking it stale: a fill from the backend that raced with a
// newer push, or that was read before a master change, can therefore never
// install or serve an older version than one this cache already held.
//
// Epochs tie the cache to one master's push stream. A push or fill of an
// older epoch than the cache's is refused, because the new master does not
// know that this frontend wants that key and would never update it.
#ifndef PODIUM_FRONTEND_CACHE_H_
#define PODIUM_FRONTEND_CACHE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "podium/v1/types.pb.h"

namespace podium {

// A cached value and its answer on the wire. The value alone (the
// EventScore or the MedalTally) is serialized once, when it is stored, so
// that a GetScore or GetMedals hit writes these bytes as they are instead
// of serializing a message per call.
class CachedChange {
 public:
  explicit CachedChange(v1::Change change);

  const v1::Change& change() const { return change_; }
  int64_t seq() const { return change_.seq(); }
  // The serialized EventScore or MedalTally of change().
  const std::string& reply() const { return reply_; }

 private:
  const v1::Change change_;
  const std::string reply_;
};

// Values are shared and immutable, so a hit costs a reference count rather
// than a copy of the message.
using CachedValue = std::shared_ptr<const CachedChange>;

// Thread-safe.
class Cache {
 public:
  // The value of `key` if it is cached and fresh; nullptr on a miss.
  // Without `count_miss` a miss is not counted (the caller goes on to a
  // read that counts it).
  CachedValue Get(const std::string& key, bool count_miss = true) const;
  // The value of `key`, fresh or stale; nullptr when it was never cached.
  // For answering while no backend can say what is fresh.
  CachedValue GetAny(const std::string& key) const;

  // Installs a value just read from the backend for a miss of `epoch`, and
  // returns what a reader should be given: the newer of it and the stored
  // value. The entry becomes fresh only when `epoch` is still current.
  CachedValue Fill(const std::string& key, const v1::Change& value, int64_t epoch);

  // Applies a change pushed by the master of `epoch` or pulled from the
  // change log: stores it, fresh, unless the stored version is as new (a
  // stored value of the same version stays, as Refresh may have reshaped
  // it, and becomes fresh). Returns false when the epoch is stale or the
  // change is not newer.
  bool Apply(const v1::Change& change, int64_t epoch);

  // Replaces the value of a cached `key` with `value` read from the backend
  // after the games changed, when it is at least as new: a value of the
  // same version may differ (a team the games gained shows with 0 points).
  // Freshness is unchanged; a key not cached stays so. Whether it replaced.
  bool Refresh(const std::string& key, const v1::Change& value);

  // Starts `epoch`: every entry becomes stale (its version stays as a floor).
  void InvalidateAll(int64_t epoch);

  int64_t epoch() const;

  // Changes whenever what Get answers for any key may have changed (a
  // value stored, replaced, made fresh or stale), so that an answer built
  // from many entries (a board) can be kept while it stays the same.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t fresh_entries = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    CachedValue value;  // never null once inserted
    bool fresh = false;
    int64_t seq() const { return value == nullptr ? 0 : value->seq(); }
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped under mu_ by every change of an entry: whoever reads entries
  // after seeing a version sees every change made before it.
  std::atomic<uint64_t> version_{0};
  mutable std::atomic<int64_t> hits_{0};
  mutable std::atomic<int64_t> misses_{0};
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_CACHE_H_
