#include "frontend/client_tracker.h"

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

}  // namespace
}  // namespace podium
