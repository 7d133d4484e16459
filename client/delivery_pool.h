// The threads a client's subscriptions deliver on. A thread per
// subscription costs a stack and a wake-up per update each: a program that
// follows thousands of keys spent most of its time switching threads. Here
// a few threads take turns running whichever subscriptions have work.
//
// Contract:
//   * A worker's Step() never runs on two threads at once, and runs again
//     after Notify() (on some thread, soon) or once the deadline its last
//     Step() returned has passed. Notifies that arrive while it waits, or
//     while it runs, are coalesced into one more Step().
//   * Workers that are ready run in the order they became ready, so a
//     busy one cannot starve the others: a Step() that leaves work behind
//     returns InfinitePast() and queues up again behind them.
//   * A Step() that blocks holds up the workers queued behind it on its
//     thread; the others keep running on the remaining threads.
#ifndef PODIUM_CLIENT_DELIVERY_POOL_H_
#define PODIUM_CLIENT_DELIVERY_POOL_H_

#include <deque>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace podium {

// Thread-safe.
class DeliveryPool {
 public:
  class Worker {
   public:
    virtual ~Worker() = default;
    // Does what is pending. Returns when to run again unasked:
    // InfiniteFuture() for only when notified, InfinitePast() for as soon
    // as the workers already waiting have had their turn.
    virtual absl::Time Step() = 0;
  };

  // `threads` >= 1.
  explicit DeliveryPool(int threads);
  DeliveryPool(const DeliveryPool&) = delete;
  DeliveryPool& operator=(const DeliveryPool&) = delete;
  // Every worker must have been removed. Joins the threads.
  ~DeliveryPool();

  // Registers `worker` and runs its first Step() soon.
  void Add(Worker* worker);
  // Runs `worker` again soon. Ignored for a worker not added.
  void Notify(Worker* worker);
  // After it returns the pool never calls `worker` again: waits for a
  // Step() in progress on another thread. Must not be called from the
  // worker's own Step().
  void Remove(Worker* worker);

  // True on a thread of this pool, that is, inside some worker's Step().
  bool OnPoolThread() const;
  // Runs `worker`'s Steps on the calling thread (when it is ready, and not
  // while another thread runs it) until `finished()` is true. For a worker
  // that must finish while the caller, inside another worker's Step(),
  // holds up one of the pool's threads.
  void RunUntil(Worker* worker, absl::FunctionRef<bool()> finished);

 private:
  struct State {
    bool queued = false;   // in ready_ (entries for unqueued workers are stale)
    bool running = false;  // in a Step() on some thread
    bool again = false;    // notified while running
    absl::Time deadline = absl::InfiniteFuture();
  };

  void MakeReady(Worker* worker, State& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks `worker` as running on the calling thread.
  void Claim(Worker* worker, State& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The first ready worker, claimed; null when none is.
  Worker* ClaimReady() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetDeadline(Worker* worker, State& state, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues the workers whose deadline has passed.
  void FireTimers() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs one Step() of a worker claimed by this thread (state.running).
  void RunStep(Worker* worker) ABSL_LOCKS_EXCLUDED(mu_);
  void Loop();

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<Worker*, State> states_ ABSL_GUARDED_BY(mu_);
  std::deque<Worker*> ready_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<absl::Time, Worker*>> timers_ ABSL_GUARDED_BY(mu_);
  // Signalled for the pool's threads: a worker became ready, or an earlier
  // timer was set.
  absl::CondVar changed_;
  // Signalled for Remove() and RunUntil(): a Step() ended, a worker became
  // ready.
  absl::CondVar step_ended_;
  int step_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace podium

#endif  // PODIUM_CLIENT_DELIVERY_POOL_H_
