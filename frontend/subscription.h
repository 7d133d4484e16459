// One client's live subscription, independent of gRPC: which keys it wants,
// what it has been sent, and a bounded queue of what is waiting.
//
// Guarantees (DESIGN 3 and 6): versions of a key only go up, changes leave
// in the order they were queued, and a slow reader cannot make the queue
// grow without bound. Up to `max_queued` updates wait as they are, so a
// burst (a catch-up replay, a busy second) reaches a reader that keeps up
// whole. Beyond that a newer value of a key that is still waiting replaces
// it (conflation, flagged on the update) and moves to the back; the queue
// then holds at most max_queued plus one update per key, and the latest
// value of every key is always delivered.
//
// Fan-out cost is per subscriber and per message, so a change is encoded
// once (EncodeChange) and every subscription shares those bytes (a write
// appends at most two bytes of flags), and what waited while a write was in
// flight leaves in one write (a batch, up to kMaxBatch updates).
//
// While the subscription catches up (replaying missed changes from the
// backend after a resume or a change of master) live changes are held
// aside, then released through the same version filter, so neither source
// can reorder or duplicate the other.
#ifndef PODIUM_FRONTEND_SUBSCRIPTION_H_
#define PODIUM_FRONTEND_SUBSCRIPTION_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

// A change ready to go to any number of subscribers.
struct EncodedChange {
  v1::Change change;
  std::string key;
  // A serialized SubscribeUpdate carrying only `change`; protobuf lets the
  // flags follow as separately encoded fields (OutgoingUpdate::Flags), and a
  // SubscribeUpdates message is each update's bytes behind a field header
  // (OutgoingUpdate::Header).
  std::string bytes;

  // The change in protobuf's JSON mapping, for Server-Sent Events: made
  // the first time a stream asks, then shared like `bytes`.
  const std::string& json() const;
  // The change as one Server-Sent Event (SseEvent, no flags), made and
  // shared the same way: most streams send exactly these bytes.
  const std::string& sse_event() const;

 private:
  mutable absl::once_flag json_once_;
  mutable std::string json_;
  mutable absl::once_flag sse_once_;
  mutable std::string sse_;
};
using EncodedChangePtr = std::shared_ptr<const EncodedChange>;
EncodedChangePtr EncodeChange(const v1::Change& change);

// One update of a write: shared bytes plus this subscriber's flags.
struct OutgoingUpdate {
  EncodedChangePtr change;
  bool snapshot = false;
  bool conflated = false;
  // The encoded flag fields to append to change->bytes ("" when none).
  std::string Flags() const;
  // What precedes this update's bytes and flags in a SubscribeUpdates
  // message: the tag and length of its `updates` entry.
  std::string Header() const;
  // The update as a message (for tests and logs; the hot path sends bytes).
  v1::SubscribeUpdate ToProto() const;
};

// Thread-safe.
class Subscription {
 public:
  // Starts one write of `updates` (one SubscribeUpdates message; never
  // empty). It is called again only after WriteDone() (possibly while the
  // previous call is still returning), and never once Close() has returned.
  // Called without the subscription's lock, so that a write completing on
  // another thread does not wait for it.
  using StartWrite = std::function<void(absl::Span<const OutgoingUpdate> updates)>;

  static constexpr size_t kDefaultMaxQueued = 256;
  // Updates one write carries at most: enough that a reader behind by a
  // burst catches up in a few messages, few enough that a message stays a
  // few kilobytes.
  static constexpr size_t kMaxBatch = 64;

  Subscription(std::vector<std::string> keys, std::string client, StartWrite start_write,
               size_t max_queued = kDefaultMaxQueued);

  // Sorted, each once.
  const std::vector<std::string>& keys() const { return keys_; }
  bool Wants(const std::string& key) const {
    return std::binary_search(keys_.begin(), keys_.end(), key);
  }
  const std::string& client() const { return client_; }
  // Which fan-out shard delivers its live changes (SubscriptionHub); set
  // before the subscription starts.
  int shard() const { return shard_; }
  void set_shard(int shard) { shard_ = shard; }

  // A live change of one of its keys.
  void Publish(const EncodedChangePtr& change);

  // Catching up: live changes are held from BeginCatchUp() until
  // EndCatchUp(); CatchUp() queues replayed changes or snapshot values.
  void BeginCatchUp();
  void CatchUp(const EncodedChangePtr& change, bool snapshot);
  // The same for several, oldest first, under one lock and one write.
  void CatchUp(absl::Span<const EncodedChangePtr> changes, bool snapshot);
  void EndCatchUp();

  // The write in flight has completed.
  void WriteDone();
  // No more writes: the stream is finishing. Returns once no call of
  // StartWrite is under way; none follows.
  void Close();

  // The newest seq queued so far (0 before anything).
  int64_t high_seq() const;
  // Whether live changes are being held for a catch-up, for tests.
  bool catching_up() const;
  // Updates dropped by conflation, for logs and tests.
  int64_t conflated() const;
  size_t queued() const;

 private:
  // Where `key` is in keys_, or keys_.size() if it is not one of them.
  size_t KeyIndex(const std::string& key) const;
  // The monotonic filter: whether `change` (of the key at `index`) is newer
  // than what was queued for its key; if so it counts as queued from now
  // on. A key the subscription does not want is never admitted.
  bool Admit(const EncodedChange& change, size_t index, bool snapshot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `change` if it is newer than what was queued for its key.
  void Enqueue(const EncodedChangePtr& change, bool snapshot, bool conflated)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One write's worth: usually a single update, kept off the heap.
  using Batch = absl::InlinedVector<OutgoingUpdate, 1>;
  // The next updates to write (oldest first, at most kMaxBatch), if any
  // are waiting and no write is in flight; Write() must follow, outside the
  // lock.
  Batch TakeWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Write(const Batch& next) ABSL_LOCKS_EXCLUDED(mu_);

  const std::vector<std::string> keys_;
  const std::string client_;
  const StartWrite start_write_;
  const size_t max_queued_;
  int shard_ = 0;

  mutable absl::Mutex mu_;
  // Waiting updates, oldest first.
  std::list<OutgoingUpdate> queue_ ABSL_GUARDED_BY(mu_);
  // Per key, by its place in keys_ (KeyIndex): fan-out touches these once
  // per update and subscriber, so they are plain vectors, not maps keyed
  // by strings to hash (and, past 15 characters, to allocate).
  // The newest waiting update of the key, or queue_.end() when none waits.
  std::vector<std::list<OutgoingUpdate>::iterator> newest_ ABSL_GUARDED_BY(mu_);
  // Highest version queued: the monotonic filter.
  std::vector<int64_t> version_ ABSL_GUARDED_BY(mu_);
  // Live changes held during a catch-up, with whether they replaced an
  // older held value of their key.
  std::vector<std::pair<EncodedChangePtr, bool>> held_ ABSL_GUARDED_BY(mu_);
  int catching_up_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // Calls of start_write_ under way (Close waits for none); raised under
  // mu_ only while open.
  std::atomic<int> starting_{0};
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t high_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t conflated_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_SUBSCRIPTION_H_
