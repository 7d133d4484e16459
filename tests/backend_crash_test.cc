// Guarantees 1 and 2 end to end: the bard replays 2,000 medal awards while
// the backend is SIGKILLed and restarted twice; afterwards every award is
// counted exactly once and the change log runs 1..2000 without a gap.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

namespace podium::test {
namespace {

constexpr int kAwards = 2000;

// Polls the backend until its head seq reaches `seq`; false on timeout.
bool WaitForHead(v1::Backend::Stub* stub, int64_t seq, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    v1::Board board;
    if (stub->GetBoard(&context, v1::GetBoardRequest(), &board).ok() && board.seq() >= seq) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  return false;
}

TEST(BackendCrashTest, ReplayedAwardsSurviveTwoKillsExactlyOnce) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  ASSERT_TRUE(backend.Start().ok()) << backend.log();

  const std::vector<std::string> teams = {"Gauls", "Romans", "Britons", "Egyptians"};
  const std::vector<std::string> medals = {"gold", "silver", "bronze"};
  std::map<std::string, int64_t> expected;
  const std::string replay = dir.path() + "/awards.replay";
  {
    std::ofstream out(replay);
    out << "# " << kAwards << " awards\n";
    for (int i = 0; i < kAwards; ++i) {
      const std::string& team = teams[i % teams.size()];
      out << "award " << team << " " << medals[(i / 4) % 3] << "\n";
      ++expected[team];
    }
  }
  const std::string bard_log = dir.path() + "/bard.log";
  absl::StatusOr<harness::Subprocess> bard = harness::Subprocess::Start(
      {harness::BinaryPath("bard/podium-bard"), "--backend=" + backend.address(),
       "--write_token_file=" + backend.token_file(), "replay", replay},
      bard_log);
  ASSERT_TRUE(bard.ok()) << bard.status();

  auto stub = backend.NewStub();
  for (int64_t kill_at : {400, 1000}) {
    ASSERT_TRUE(WaitForHead(stub.get(), kill_at, absl::Seconds(60)))
        << "backend never reached seq " << kill_at << "\n"
        << harness::ReadFileOrEmpty(bard_log);
    ASSERT_TRUE(bard->running()) << "the bard finished before kill at " << kill_at;
    backend.Kill(SIGKILL);
    ASSERT_TRUE(backend.Start().ok()) << backend.log();
  }
  absl::StatusOr<int> exit = bard->Wait(absl::Seconds(120));
  ASSERT_TRUE(exit.ok()) << exit.status();
  ASSERT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << "bard failed:\n"
                                                           << harness::ReadFileOrEmpty(bard_log);

  stub = backend.NewStub();
  grpc::ClientContext context;
  v1::Board board;
  ASSERT_TRUE(stub->GetBoard(&context, v1::GetBoardRequest(), &board).ok());
  int64_t total = 0;
  for (const v1::MedalTally& tally : board.medals()) {
    const int64_t sum = tally.gold() + tally.silver() + tally.bronze();
    EXPECT_EQ(sum, expected[tally.team()]) << tally.team();
    total += sum;
  }
  EXPECT_EQ(total, kAwards);
  EXPECT_EQ(board.seq(), kAwards) << "a duplicate consumed a seq";

  // The change log: every seq from 1 to the head, once, in order.
  int64_t next = 1;
  while (next <= board.seq()) {
    grpc::ClientContext page_context;
    v1::ChangesSinceRequest request;
    request.set_after_seq(next - 1);
    v1::ChangesSinceReply reply;
    grpc::Status status = stub->ChangesSince(&page_context, request, &reply);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_FALSE(reply.changes().empty()) << "no changes after " << next - 1;
    for (const v1::Change& change : reply.changes()) {
      ASSERT_EQ(change.seq(), next) << "gap in the change log";
      ++next;
    }
  }
  EXPECT_EQ(next - 1, kAwards);
  // The kills really hit the replay mid-stream: the bard had to retry.
  EXPECT_THAT(harness::ReadFileOrEmpty(bard_log), ::testing::HasSubstr("retry"));
}

}  // namespace
}  // namespace podium::test
