// Every live subscription of one frontend: fans each change out to the
// subscriptions that want its key, and brings subscriptions up to date when
// they start (with the client's resume seq) and whenever this frontend may
// have missed changes (a change of master, a reset).
//
// Catch-up runs on the hub's own worker threads, never on gRPC's: it talks
// to the master and the backend, and retries until it succeeds or the
// subscription ends, holding the subscription's live changes meanwhile.
// Its cost grows with the keys served, not with the subscriptions: a worker
// takes every catch-up that is due at once (thousands after a change of
// master or when a dead frontend's clients arrive) and serves them with one
// registration of their keys at the master, one read of each key for those
// that start from a snapshot, and one replay, from the oldest seq any of
// them needs, which each takes from above its own seq. The replay comes
// from the frontend's recent changes (RecentChanges) when they hold all of
// it, else from the backend's change log, once for the whole batch.
#ifndef PODIUM_FRONTEND_SUBSCRIPTION_HUB_H_
#define PODIUM_FRONTEND_SUBSCRIPTION_HUB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "frontend/recent_changes.h"
#include "frontend/subscription.h"
#include "podium/v1/backend.pb.h"

namespace podium {

// How the hub reaches the rest of the frontend.
struct SubscriptionHooks {
  // Makes sure changes of `keys` reach this frontend from now on (push
  // mode: interest at the master). Called before each catch-up reads.
  std::function<absl::Status(const std::vector<std::string>& keys)> ensure_feed;
  // The current value of a key (a cached read).
  std::function<absl::StatusOr<v1::Change>(const std::string& key)> read;
  // The backend's changes after a seq; OUT_OF_RANGE when compacted.
  std::function<absl::StatusOr<v1::ChangesSinceReply>(int64_t after_seq)> changes_since;
};

// Thread-safe.
class SubscriptionHub {
 public:
  explicit SubscriptionHub(SubscriptionHooks hooks, int workers = 2,
                           size_t recent_changes = RecentChanges::kDefaultCapacity);
  ~SubscriptionHub();

  // Registers a subscription and schedules its catch-up: a snapshot of its
  // keys when `after_seq` is 0, else a replay of the changes after it.
  void Add(std::shared_ptr<Subscription> subscription, int64_t after_seq);
  void Remove(const Subscription* subscription);

  // Where fan-out runs: `task` must run after the tasks given earlier for
  // the same shard; shards may run side by side. Without a runner, Publish
  // writes to every subscription on the calling thread. Set before the
  // first Publish.
  using ShardRunner = std::function<void(int shard, std::function<void()> task)>;
  void SetShardRunner(ShardRunner runner);

  // A change this frontend learned (push, master watch or poll). Each
  // subscription gets it on its shard's runner.
  void Publish(const v1::Change& change);

  // This frontend may have missed changes after `complete_seq` (its master
  // changed): every subscription replays from there, or from the newest
  // seq it has, whichever is older. Every subscription holds its live
  // changes from this call on, so the caller must make it before it
  // accepts a change of the new master.
  void CatchUpAll(int64_t complete_seq);
  // The frontend applied a whole board instead of the change log (after
  // compaction): its recent changes have a gap, and serve no replay until
  // a backend read or a snapshot covers their keys again.
  void ForgetHistory();

  struct Stats {
    int64_t batches = 0;        // catch-up batches run
    int64_t catch_ups = 0;      // subscriptions caught up
    int64_t backend_pages = 0;  // ChangesSince calls
    int64_t from_memory = 0;    // replays served from recent changes
    int64_t key_reads = 0;      // snapshot reads, one per key per batch
  };
  Stats stats() const;

  // The union of subscribed keys, to register with a new master.
  std::vector<std::string> Keys() const;
  size_t size() const;

 private:
  struct Task {
    std::weak_ptr<Subscription> subscription;
    int64_t after_seq = 0;
  };
  // A subscription of a batch, and the seq its catch-up starts after.
  struct Item {
    std::shared_ptr<Subscription> subscription;
    int64_t after_seq = 0;
  };

  void Schedule(std::vector<Task> tasks, absl::Time not_before) ABSL_LOCKS_EXCLUDED(mu_);
  void WorkerLoop();
  // Catches up every subscription of `items`; those that could not be are
  // scheduled again.
  void RunBatch(std::vector<Item> items);
  // Replays the changes after each item's seq; items whose history is
  // compacted move to `compacted`.
  absl::Status Replay(std::vector<Item>* items, int64_t generation, std::vector<Item>* compacted);
  // Sends each item a snapshot of its keys; returns those with a key that
  // could not be read (why: the last error), leaving the others in `items`.
  std::vector<Item> Snapshot(std::vector<Item>* items, int64_t generation, absl::Status* why);
  void Retry(const std::vector<Item>& items, const absl::Status& why);

  const SubscriptionHooks hooks_;

  // Held through a Publish, so that changes go out in order; taken before mu_.
  absl::Mutex publish_mu_;
  mutable absl::Mutex mu_;
  // Where a subscription sits in its keys' indexes: by client(), so that a
  // client connection's streams are adjacent (see Add), then by address.
  // The client string belongs to the subscription, which the index holds.
  using IndexOrder = std::pair<absl::string_view, const Subscription*>;
  static IndexOrder IndexKey(const Subscription& s) { return {s.client(), &s}; }

  // Every subscription, and those of each key: a change visits only the
  // subscriptions of its key, however many others the frontend holds, and
  // adding or removing one costs a logarithm per key, so that thousands
  // of clients arriving or leaving at once do not hold up fan-out.
  absl::flat_hash_map<const Subscription*, std::shared_ptr<Subscription>> subscriptions_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::btree_map<IndexOrder, std::shared_ptr<Subscription>>>
      by_key_ ABSL_GUARDED_BY(mu_);
  // Catch-ups due now, and those retried later by when.
  std::vector<Task> due_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, Task> later_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  ShardRunner runner_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  RecentChanges recent_;
  std::vector<std::thread> workers_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_SUBSCRIPTION_HUB_H_
