// Frontend in-process, without a backend: how a member takes the master's
// invalidations and resets.
#include "frontend/frontend.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/subprocess.h"

namespace podium {
namespace {

v1::Change JavelinAt(int64_t seq) {
  v1::Change change;
  change.set_seq(seq);
  change.mutable_event()->set_event("javelin");
  change.mutable_event()->set_version(seq);
  return change;
}

class FrontendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FrontendOptions options;
    // Nothing listens on either: this frontend is alone, elects itself and
    // takes invalidations as if from itself; the backend is never needed.
    options.address = absl::StrCat("127.0.0.1:", harness::PickFreePort());
    options.backend = absl::StrCat("127.0.0.1:", harness::PickFreePort());
    options.pid = getpid();
    options.peers = {options.address};
    options.mode = v1::PUSH;
    frontend_ = std::make_unique<Frontend>(options);
    frontend_->Start();
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!frontend_->master().self_is_master && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_TRUE(frontend_->master().self_is_master);
  }

  void TearDown() override { frontend_->Stop(); }

  v1::InvalidateRequest Request(int64_t resets) {
    const MasterView view = frontend_->master();
    v1::InvalidateRequest request;
    request.set_master(view.master);
    request.set_epoch(view.epoch);
    request.set_resets(resets);
    // A master has read at least as far as every change it sends.
    request.set_watched_seq(100);
    return request;
  }

  int64_t CachedJavelin() {
    CachedValue value = frontend_->cache().Get("event:javelin");
    return value == nullptr ? 0 : value->seq();
  }

  std::unique_ptr<Frontend> frontend_;
};

TEST_F(FrontendTest, AResetMakesTheCacheStale) {
  v1::InvalidateRequest batch = Request(0);
  *batch.add_changes() = JavelinAt(5);
  ASSERT_TRUE(frontend_->Invalidate(batch).ok());
  EXPECT_EQ(CachedJavelin(), 5);
  v1::InvalidateRequest reset = Request(1);
  reset.set_reset(true);
  ASSERT_TRUE(frontend_->Invalidate(reset).ok());
  EXPECT_EQ(CachedJavelin(), 0) << "javelin@5 is still served as fresh";
}

// A batch that timed out at the master, was replaced by a reset and only
// then reached the member must not make an old value fresh again.
TEST_F(FrontendTest, ABatchOvertakenByAResetIsIgnored) {
  v1::InvalidateRequest reset = Request(1);
  reset.set_reset(true);
  ASSERT_TRUE(frontend_->Invalidate(reset).ok());
  v1::InvalidateRequest late = Request(0);
  *late.add_changes() = JavelinAt(5);
  ASSERT_TRUE(frontend_->Invalidate(late).ok());
  EXPECT_EQ(CachedJavelin(), 0);
  v1::InvalidateRequest next = Request(1);
  *next.add_changes() = JavelinAt(6);
  ASSERT_TRUE(frontend_->Invalidate(next).ok());
  EXPECT_EQ(CachedJavelin(), 6);
}

TEST_F(FrontendTest, AnInvalidationNoMasterWouldSendIsRefusedWhole) {
  // Even from the master it follows (a forger with the cluster token who
  // learned master and epoch from a Ping): a change past the seq it says
  // it has read, or of a key outside the games, applies nothing at all.
  v1::InvalidateRequest ahead = Request(0);
  *ahead.add_changes() = JavelinAt(5);
  *ahead.add_changes() = JavelinAt(1'000'000);
  EXPECT_EQ(frontend_->Invalidate(ahead).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CachedJavelin(), 0);
}

TEST_F(FrontendTest, InterestFromAStrangerIsRefused) {
  v1::InterestRequest request;
  request.mutable_from()->set_address("10.9.9.9:1");
  request.set_epoch(frontend_->master().epoch);
  request.add_keys("event:javelin");
  EXPECT_EQ(frontend_->Interest(request).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(FrontendTest, AnInvalidationFromAnotherMasterIsRefused) {
  v1::InvalidateRequest other = Request(0);
  other.set_epoch(other.epoch() + 1);
  *other.add_changes() = JavelinAt(5);
  EXPECT_EQ(frontend_->Invalidate(other).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CachedJavelin(), 0);
}

}  // namespace
}  // namespace podium
