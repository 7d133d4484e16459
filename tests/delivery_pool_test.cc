// The threads a client's subscriptions share (client/delivery_pool.h),
// without servers: one Step at a time per worker, notifies coalesced and
// never lost, deadlines kept, turns taken fairly, Remove and RunUntil
// safe to call while steps run.
#include "client/delivery_pool.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

constexpr absl::Duration kBound = absl::Seconds(10);

// A worker whose Step runs `body` and counts.
class CountingWorker : public DeliveryPool::Worker {
 public:
  explicit CountingWorker(std::function<absl::Time(int)> body = nullptr)
      : body_(std::move(body)) {}

  absl::Time Step() override {
    const int inside = ++inside_;
    max_inside_ = std::max(max_inside_.load(), inside);
    const int step = ++steps_;
    const absl::Time next = body_ ? body_(step) : absl::InfiniteFuture();
    --inside_;
    absl::MutexLock lock(&mu_);
    ++finished_;
    return next;
  }

  // Waits until `n` steps have finished.
  bool WaitForSteps(int n) {
    absl::MutexLock lock(&mu_);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return finished_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kBound);
  }
  int steps() const { return steps_; }
  int max_inside() const { return max_inside_; }

 private:
  const std::function<absl::Time(int)> body_;
  std::atomic<int> inside_{0};
  std::atomic<int> max_inside_{0};
  std::atomic<int> steps_{0};
  absl::Mutex mu_;
  int finished_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(DeliveryPoolTest, AWorkerRunsOnOneThreadAtATimeAndNoNotifyIsLost) {
  DeliveryPool pool(4);
  std::atomic<int> posted{0};
  std::atomic<int> seen{0};
  CountingWorker worker([&](int) {
    seen = posted.load();
    return absl::InfiniteFuture();
  });
  pool.Add(&worker);
  std::vector<std::thread> notifiers;
  for (int t = 0; t < 4; ++t) {
    notifiers.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        ++posted;
        pool.Notify(&worker);
      }
    });
  }
  for (std::thread& t : notifiers) t.join();
  // A Step that starts after the last notify sees all 20,000.
  const absl::Time deadline = absl::Now() + kBound;
  while (seen < 20000 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(seen, 20000);
  EXPECT_EQ(worker.max_inside(), 1);
  // Coalesced: far fewer steps than notifies (the first Step came with Add).
  EXPECT_LT(worker.steps(), 20000);
  pool.Remove(&worker);
}

TEST(DeliveryPoolTest, AStepRunsAgainAtTheDeadlineItReturned) {
  DeliveryPool pool(1);
  std::vector<absl::Time> at;
  absl::Mutex mu;
  CountingWorker worker([&](int step) {
    absl::MutexLock lock(&mu);
    at.push_back(absl::Now());
    return step < 3 ? absl::Now() + absl::Milliseconds(30) : absl::InfiniteFuture();
  });
  pool.Add(&worker);
  ASSERT_TRUE(worker.WaitForSteps(3));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(at.size(), 3u);
  EXPECT_GE(at[1] - at[0], absl::Milliseconds(30));
  EXPECT_GE(at[2] - at[1], absl::Milliseconds(30));
  pool.Remove(&worker);
}

TEST(DeliveryPoolTest, ABusyWorkerLetsAReadyOneTakeItsTurn) {
  DeliveryPool pool(1);
  std::atomic<int> busy_steps_when_other_ran{-1};
  // The busy worker's first step holds the only thread until `other` is
  // queued: otherwise all 1,000 steps may run before the second Add.
  absl::Notification other_added;
  CountingWorker busy([&](int step) {
    if (step == 1) other_added.WaitForNotificationWithTimeout(kBound);
    return step < 1000 ? absl::InfinitePast() : absl::InfiniteFuture();
  });
  CountingWorker other([&](int) {
    busy_steps_when_other_ran = busy.steps();
    return absl::InfiniteFuture();
  });
  pool.Add(&busy);
  pool.Add(&other);
  other_added.Notify();
  ASSERT_TRUE(other.WaitForSteps(1));
  ASSERT_TRUE(busy.WaitForSteps(1000));
  // Queued behind one step of the busy worker, not behind all 1,000.
  EXPECT_LT(busy_steps_when_other_ran, 10);
  pool.Remove(&busy);
  pool.Remove(&other);
}

TEST(DeliveryPoolTest, RemoveWaitsForTheStepInProgress) {
  DeliveryPool pool(2);
  absl::Notification entered;
  absl::Notification release;
  std::atomic<bool> step_over{false};
  CountingWorker worker([&](int) {
    entered.Notify();
    release.WaitForNotificationWithTimeout(kBound);
    step_over = true;
    return absl::InfiniteFuture();
  });
  pool.Add(&worker);
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kBound));
  std::atomic<bool> removed{false};
  std::thread remover([&] {
    pool.Remove(&worker);
    removed = true;
  });
  // The remover cannot finish before the step does; once released, it does.
  EXPECT_FALSE(removed);
  release.Notify();
  remover.join();
  EXPECT_TRUE(step_over);
  // Removed: notifies are ignored.
  pool.Notify(&worker);
}

TEST(DeliveryPoolTest, RunUntilFinishesAWorkerWhileTheOnlyThreadIsHeld) {
  DeliveryPool pool(1);
  CountingWorker needs_three([](int step) {
    return step < 3 ? absl::Now() + absl::Milliseconds(5) : absl::InfiniteFuture();
  });
  std::atomic<bool> on_pool_thread{false};
  CountingWorker holder([&](int) {
    on_pool_thread = pool.OnPoolThread();
    // Adding here queues it behind this very step on the only thread.
    pool.Add(&needs_three);
    pool.RunUntil(&needs_three, [&] { return needs_three.steps() >= 3; });
    return absl::InfiniteFuture();
  });
  pool.Add(&holder);
  ASSERT_TRUE(holder.WaitForSteps(1));
  EXPECT_TRUE(on_pool_thread);
  EXPECT_FALSE(pool.OnPoolThread());
  EXPECT_GE(needs_three.steps(), 3);
  pool.Remove(&needs_three);
  pool.Remove(&holder);
}

}  // namespace
}  // namespace podium
