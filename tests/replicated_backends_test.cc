// Issue 14 item 2 end to end: two podium-backends over one etcd cluster,
// frontends and the bard given both. The backend everyone uses is
// SIGKILLed in the middle of a replay: the bard's retries go to the other
// one under their idempotency keys, the master frontend's Watch resumes
// there from its last seq, and a subscriber sees every change once, in
// order.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/etcd_cluster.h"
#include "harness/temp_dir.h"
#include "harness/update_reader.h"

namespace podium::test {
namespace {

constexpr int kAwards = 600;

int64_t GoldOf(const harness::BackendProcess& backend) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  v1::GetMedalsRequest request;
  request.set_team("Gauls");
  v1::MedalTally tally;
  grpc::Status status = backend.NewStub()->GetMedals(&context, request, &tally);
  return status.ok() ? tally.gold() : -1;
}

TEST(ReplicatedBackendsTest, KillingTheBackendInUseLosesAndRepeatsNothing) {
  harness::ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<harness::EtcdCluster>> etcd =
      harness::EtcdCluster::Start(1, dir.path());
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  const std::vector<std::string> store = {"--store=etcd", "--etcd=" + (*etcd)->endpoints()};
  std::filesystem::create_directories(dir.path() + "/b1");
  std::filesystem::create_directories(dir.path() + "/b2");
  harness::BackendProcess first(dir.path() + "/b1", store);
  harness::BackendProcess second(dir.path() + "/b2", store);
  ASSERT_TRUE(first.Start().ok()) << first.log();
  ASSERT_TRUE(second.Start().ok()) << second.log();
  const std::string both = first.address() + "," + second.address();

  harness::FrontendCluster frontends(dir.path(), both, 2, "push");
  ASSERT_TRUE(frontends.StartAll().ok());
  const int master = frontends.HighestPid();
  ASSERT_TRUE(frontends.WaitForMaster(frontends.address(master), absl::Seconds(20)).ok());
  // Subscribed at the member: every change reaches it through the master's
  // Watch, the stream the kill breaks.
  const int member = 1 - master;
  auto stub = frontends.NewStub(member);
  grpc::ClientContext context;
  // Bounds the reads below should an update never come.
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  v1::SubscribeRequest request;
  request.add_teams("Gauls");
  harness::UpdateReader reader(stub.get(), &context, request);
  reader.WaitForInitialMetadata();

  const std::string replay = dir.path() + "/awards.replay";
  {
    std::ofstream out(replay);
    for (int i = 0; i < kAwards; ++i) out << "award Gauls gold\n";
  }
  const std::string bard_log = dir.path() + "/bard.log";
  absl::StatusOr<harness::Subprocess> bard =
      harness::Subprocess::Start({harness::BinaryPath("bard/podium-bard"), "--backend=" + both,
                                  "--write_token_file=" + first.token_file(), "replay", replay},
                                 bard_log);
  ASSERT_TRUE(bard.ok()) << bard.status();

  // Everyone uses the first backend of the list while it answers.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (GoldOf(first) < kAwards / 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GE(GoldOf(first), kAwards / 3) << harness::ReadFileOrEmpty(bard_log);
  ASSERT_TRUE(bard->running()) << "the replay ended before the kill";
  first.Kill(SIGKILL);

  absl::StatusOr<int> exit = bard->Wait(absl::Seconds(120));
  ASSERT_TRUE(exit.ok()) << exit.status();
  ASSERT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << harness::ReadFileOrEmpty(bard_log);
  EXPECT_EQ(GoldOf(second), kAwards) << "an award was lost or counted twice";

  // The subscriber: a snapshot, then each award in order, none skipped
  // unless flagged as conflated, none twice, ending on the last.
  int64_t gold = -1;
  int64_t seq = 0;
  int conflated = 0;
  v1::SubscribeUpdate update;
  while (gold < kAwards && reader.Read(&update)) {
    const v1::MedalTally& tally = update.change().medals();
    // The first is the snapshot, which may be of a value never written.
    if (gold >= 0) {
      ASSERT_GT(update.change().seq(), seq) << "a version went back or came twice";
    }
    if (gold >= 0 && !update.snapshot()) {
      if (update.conflated()) {
        ++conflated;
        ASSERT_GT(tally.gold(), gold);
      } else {
        ASSERT_EQ(tally.gold(), gold + 1) << "an award was skipped at seq " << seq;
      }
    }
    gold = tally.gold();
    seq = update.change().seq();
  }
  EXPECT_EQ(gold, kAwards);
  context.TryCancel();
  // The master's Watch moved to the other backend and said so.
  EXPECT_NE(frontends.log(master).find("watching the backend at ipv4:" + second.address()),
            std::string::npos)
      << frontends.log(master);
  RecordProperty("conflated", conflated);
}

}  // namespace
}  // namespace podium::test
