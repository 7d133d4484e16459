#include "frontend/client_tracker.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

TEST(ClientTrackerTest, CountsDistinctRecentCallersAndOpenStreams) {
  ClientTracker tracker(absl::InfiniteDuration());
  tracker.Seen("ipv4:127.0.0.1:1");
  tracker.Seen("ipv4:127.0.0.1:1");
  tracker.Seen("ipv4:127.0.0.1:2");
  EXPECT_EQ(tracker.Count(), 2);
  tracker.Attach("ipv4:127.0.0.1:2");  // a reader that also subscribes
  tracker.Attach("ipv4:127.0.0.1:3");
  tracker.Attach("ipv4:127.0.0.1:3");  // two streams, one client
  EXPECT_EQ(tracker.Count(), 3);
  tracker.Detach("ipv4:127.0.0.1:3");
  EXPECT_EQ(tracker.Count(), 3) << "one stream of client 3 is still open";
  tracker.Detach("ipv4:127.0.0.1:3");
  EXPECT_EQ(tracker.Count(), 2);
}

TEST(ClientTrackerTest, CallersOutsideTheWindowNoLongerCountStreamsDo) {
  ClientTracker tracker(absl::ZeroDuration());  // every call is already old
  tracker.Seen("ipv4:127.0.0.1:1");
  tracker.Attach("ipv4:127.0.0.1:2");
  EXPECT_EQ(tracker.Count(), 1);
}

TEST(ClientTrackerTest, ACallerSeenOnManyThreadsCountsOnce) {
  ClientTracker tracker(absl::InfiniteDuration());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&tracker, t] {
      for (int i = 0; i < 1000; ++i) {
        tracker.Seen("ipv4:127.0.0.1:1");
        tracker.Seen(absl::StrCat("ipv4:127.0.0.1:", 100 + t));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(tracker.Count(), 5);
}

TEST(ClientTrackerTest, TwoTrackersOnOneThreadEachCountTheirOwnCallers) {
  // A thread's memory of recent callers belongs to one tracker: the second
  // must not take the first's callers as already stamped.
  ClientTracker first(absl::InfiniteDuration());
  ClientTracker second(absl::InfiniteDuration());
  first.Seen("ipv4:127.0.0.1:1");
  second.Seen("ipv4:127.0.0.1:1");
  first.Seen("ipv4:127.0.0.1:2");
  EXPECT_EQ(first.Count(), 2);
  EXPECT_EQ(second.Count(), 1);
}

}  // namespace
}  // namespace podium
