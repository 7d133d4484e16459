// Guarantee 7 with real frontends: the highest live pid is master, a
// killed master is replaced by the next-highest, a revived higher pid takes
// over again, and there is exactly one master each time.
#include <signal.h>

#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

namespace podium::test {
namespace {

class ElectionTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    ASSERT_EQ(frontends_.StartAll(), absl::OkStatus());
  }

  // Generous: this checks who wins, not how fast (bench/ measures that).
  static constexpr absl::Duration kAgreement = absl::Seconds(15);

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  harness::FrontendCluster frontends_{dir_.path(), backend_.address(), 3, GetParam()};
};

TEST_P(ElectionTest, HighestPidWinsThenNextOnKillThenRevivedTakesOver) {
  const int first = frontends_.HighestPid();
  ASSERT_TRUE(frontends_.WaitForMaster(frontends_.address(first), kAgreement).ok());

  frontends_.Kill(first, SIGKILL);
  const int second = frontends_.HighestPid();
  ASSERT_NE(second, first);
  absl::Status agreed = frontends_.WaitForMaster(frontends_.address(second), kAgreement);
  ASSERT_TRUE(agreed.ok()) << agreed << "\n" << frontends_.log(second);

  ASSERT_EQ(frontends_.StartAsHighestPid(first), absl::OkStatus());
  agreed = frontends_.WaitForMaster(frontends_.address(first), kAgreement);
  ASSERT_TRUE(agreed.ok()) << agreed << "\n" << frontends_.log(first);
}

TEST_P(ElectionTest, StartOrderDoesNotMatter) {
  // Restart the lowest pid last so it becomes the highest; it must win.
  int lowest = 0;
  for (int i = 1; i < frontends_.size(); ++i) {
    if (frontends_.pid(i) < frontends_.pid(lowest)) lowest = i;
  }
  frontends_.Kill(lowest, SIGTERM);
  ASSERT_EQ(frontends_.StartAsHighestPid(lowest), absl::OkStatus());
  absl::Status agreed = frontends_.WaitForMaster(frontends_.address(lowest), kAgreement);
  EXPECT_TRUE(agreed.ok()) << agreed;
}

TEST_P(ElectionTest, SigtermShutsDownCleanly) {
  for (int i = 0; i < frontends_.size(); ++i) {
    frontends_.Kill(i, SIGTERM);
    EXPECT_NE(frontends_.log(i).find("stopped cleanly"), std::string::npos) << frontends_.log(i);
  }
  backend_.Kill(SIGTERM);
  EXPECT_NE(backend_.log().find("stopped cleanly"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Modes, ElectionTest, ::testing::Values("push", "pull"));

}  // namespace
}  // namespace podium::test
