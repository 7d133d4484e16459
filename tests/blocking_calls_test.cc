// The frontend's threads for calls that may wait, without servers: every
// queued call runs, the waiting limit refuses the excess, and destruction
// runs what was queued.
#include "frontend/blocking_calls.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

constexpr absl::Duration kBound = absl::Seconds(10);

TEST(BlockingCallsTest, EveryQueuedCallRunsAndDestructionWaitsForThem) {
  std::atomic<int> ran{0};
  {
    BlockingCalls workers(3);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(workers.Run([&] { ++ran; }));
  }
  EXPECT_EQ(ran, 1000);
}

TEST(BlockingCallsTest, CallsBeyondTheWaitingLimitAreRefusedAndNeverRun) {
  absl::Notification entered;
  absl::Notification release;
  std::atomic<int> ran{0};
  {
    BlockingCalls workers(/*threads=*/1, /*max_waiting=*/2);
    ASSERT_TRUE(workers.Run([&] {
      entered.Notify();
      release.WaitForNotificationWithTimeout(kBound);
    }));
    ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kBound));
    // The only thread is busy: two may wait, the third is turned away.
    EXPECT_TRUE(workers.Run([&] { ++ran; }));
    EXPECT_TRUE(workers.Run([&] { ++ran; }));
    EXPECT_FALSE(workers.Run([&] { ran += 100; }));
    release.Notify();
  }
  EXPECT_EQ(ran, 2);
}

TEST(BlockingCallsTest, ABlockedCallDoesNotHoldUpTheOthers) {
  absl::Notification release;
  absl::Notification other_ran;
  BlockingCalls workers(/*threads=*/2);
  ASSERT_TRUE(workers.Run([&] { release.WaitForNotificationWithTimeout(kBound); }));
  ASSERT_TRUE(workers.Run([&] { other_ran.Notify(); }));
  EXPECT_TRUE(other_ran.WaitForNotificationWithTimeout(kBound));
  release.Notify();
}

}  // namespace
}  // namespace podium
