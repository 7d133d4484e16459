// BardWriter against a real in-process backend (SQLite store, gRPC service):
// keys make writes idempotent, refusals come back at once with their code,
// and unavailability is retried with the same key until the backend answers.
#include "bard/bard_writer.h"

#include <signal.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "backend/games.h"
#include "bard/output.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"
#include "tests/testing/in_process_backend.h"

namespace podium {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kToken[] = "tok";

v1::AwardMedalRequest Gold(const std::string& team, const std::string& key) {
  v1::AwardMedalRequest request;
  request.set_idempotency_key(key);
  request.set_team(team);
  request.set_medal(v1::GOLD);
  return request;
}

class BardWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<test::InProcessBackend>> backend =
        test::InProcessBackend::Open(dir_.path(), kToken);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *std::move(backend);
  }

  // Serves on `port` (0 picks one); returns the address.
  std::string StartBackend(int port = 0) {
    absl::StatusOr<std::string> address = backend_->Serve(port);
    EXPECT_TRUE(address.ok()) << address.status();
    return address.ok() ? *address : "";
  }

  void StopServer() { backend_->Stop(); }

  // Starts the backend on `port` from another thread once `writer` has
  // retried `retries` times, so the attempts before surely found nothing
  // listening; sets *up_at (may be null) to when it serves. Join the thread.
  std::thread StartBackendOnceRetrying(BardWriter* writer, int port, int retries = 1,
                                       absl::Time* up_at = nullptr) {
    return std::thread([this, writer, port, retries, up_at] {
      const absl::Time give_up = absl::Now() + absl::Seconds(30);
      while (writer->retries() < retries && absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(5));
      }
      StartBackend(port);
      if (up_at != nullptr) *up_at = absl::Now();
    });
  }

  int64_t GoldCount(const std::string& team) {
    absl::StatusOr<v1::MedalTally> tally = backend_->store()->GetMedals(team);
    EXPECT_TRUE(tally.ok()) << tally.status();
    return tally.ok() ? tally->gold() : -1;
  }

  harness::ScopedTempDir dir_;
  std::unique_ptr<test::InProcessBackend> backend_;
};

TEST_F(BardWriterTest, WriteSucceedsWithAKeyFilledIn) {
  BardWriter writer(StartBackend(), kToken);
  v1::RecordScoreRequest request;
  request.set_event("menhir-put");
  request.set_status(v1::LIVE);
  v1::TeamPoints* points = request.add_points();
  points->set_team("Gauls");
  points->set_points(3);
  absl::StatusOr<v1::WriteReply> reply = writer.RecordScore(request);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_FALSE(reply->duplicate());
  EXPECT_EQ(reply->change().seq(), 1);
  ASSERT_TRUE(reply->change().has_event());
  EXPECT_EQ(reply->change().event().status(), v1::LIVE);
  EXPECT_EQ(reply->change().event().points(0).points(), 3);
  EXPECT_EQ(DescribeReply(*reply), "seq 1: menhir-put Gauls=3 Romans=0 Britons=0 Egyptians=0 live");
  EXPECT_THAT(ReplyToJson(*reply), StartsWith("{\"seq\":1,\"duplicate\":false,\"event\":{"
                                              "\"event\":\"menhir-put\",\"status\":\"live\","
                                              "\"points\":{\"Gauls\":3,\"Romans\":0,"));
  // The key the writer chose was applied: resending it is a duplicate.
  const std::string key = writer.NextKey();
  EXPECT_THAT(key, StartsWith("bard-"));
  EXPECT_LE(key.size(), 128u);
  EXPECT_NE(key, writer.NextKey());
}

TEST_F(BardWriterTest, AnOperatorRemovesAFansPostAndASecondRemovalIsNotFound) {
  v1::PostToFanBoardRequest post;
  post.set_idempotency_key("fan-1");
  post.set_event("javelin");
  post.set_author("Ann");
  post.set_text("spam spam spam");
  absl::StatusOr<WriteResult> posted = backend_->store()->PostToFanBoard(post);
  ASSERT_TRUE(posted.ok()) << posted.status();
  BardWriter writer(StartBackend(), kToken);
  v1::RemovePostRequest removal;
  removal.set_event("javelin");
  removal.set_post_id(posted->change.seq());
  removal.set_reason("spam");
  absl::StatusOr<v1::WriteReply> removed = writer.RemovePost(removal);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->change().fans().posts_size(), 0);
  EXPECT_EQ(DescribeReply(*removed), "seq 2: javelin fan board, 0 posts (reason: spam)");
  absl::StatusOr<v1::WriteReply> again = writer.RemovePost(removal);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound) << again.status();
  EXPECT_EQ(writer.retries(), 0);
}

TEST_F(BardWriterTest, SameKeyTwiceIsADuplicateCountedOnce) {
  BardWriter writer(StartBackend(), kToken);
  absl::StatusOr<v1::WriteReply> first = writer.AwardMedal(Gold("Gauls", "k1"));
  absl::StatusOr<v1::WriteReply> second = writer.AwardMedal(Gold("Gauls", "k1"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(first->duplicate());
  EXPECT_TRUE(second->duplicate());
  EXPECT_EQ(second->change().seq(), first->change().seq());
  EXPECT_THAT(DescribeReply(*second), HasSubstr("(already applied)"));
  EXPECT_THAT(ReplyToJson(*second), HasSubstr("\"duplicate\":true"));
  EXPECT_EQ(GoldCount("Gauls"), 1);
  EXPECT_EQ(backend_->store()->head_seq(), 1);
}

TEST_F(BardWriterTest, WrongTokenIsPermissionDeniedWithoutRetrying) {
  BardWriter writer(StartBackend(), "not-the-token");
  absl::StatusOr<v1::WriteReply> reply = writer.AwardMedal(Gold("Gauls", ""));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(writer.retries(), 0);
  EXPECT_EQ(GoldCount("Gauls"), 0);
}

TEST_F(BardWriterTest, UnknownTeamIsNotFoundWithTheBackendsMessage) {
  BardWriter writer(StartBackend(), kToken);
  absl::StatusOr<v1::WriteReply> reply = writer.AwardMedal(Gold("Goths", ""));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(reply.status().message(), HasSubstr("unknown team 'Goths'"));
  EXPECT_EQ(writer.retries(), 0);
}

TEST_F(BardWriterTest, RetriesUntilTheBackendComesUpAndAppliesOnce) {
  const int port = harness::PickFreePort();
  BardWriterOptions options;
  options.retry_budget = absl::Seconds(30);  // bounds the test
  options.max_backoff = absl::Milliseconds(200);
  BardWriter writer(absl::StrCat("127.0.0.1:", port), kToken, options);
  // Down long enough for the channel to settle in TRANSIENT_FAILURE, where
  // gRPC's own reconnection alone can take many seconds.
  absl::Time up_at;
  std::thread starter = StartBackendOnceRetrying(&writer, port, 8, &up_at);
  absl::StatusOr<v1::WriteReply> reply = writer.AwardMedal(Gold("Romans", ""));
  const absl::Time done_at = absl::Now();
  starter.join();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_FALSE(reply->duplicate());
  EXPECT_GE(writer.retries(), 8);
  EXPECT_EQ(GoldCount("Romans"), 1);
  EXPECT_EQ(backend_->store()->head_seq(), 1);
  // Attempts come at most 200 ms apart; one of the first few after the
  // backend is back must get through.
  EXPECT_LT(done_at - up_at, absl::Seconds(3));
}

TEST_F(BardWriterTest, SameChannelRecoversAfterTheBackendRestarts) {
  const std::string address = StartBackend();
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  BardWriterOptions options;
  options.retry_budget = absl::Seconds(30);
  options.max_backoff = absl::Milliseconds(200);
  BardWriter writer(address, kToken, options);
  ASSERT_TRUE(writer.AwardMedal(Gold("Gauls", "")).ok());
  StopServer();
  absl::Time up_at;
  std::thread starter = StartBackendOnceRetrying(&writer, port, 8, &up_at);
  absl::StatusOr<v1::WriteReply> reply = writer.AwardMedal(Gold("Gauls", ""));
  const absl::Time done_at = absl::Now();
  starter.join();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_GE(writer.retries(), 8);
  EXPECT_EQ(GoldCount("Gauls"), 2);
  EXPECT_LT(done_at - up_at, absl::Seconds(3));
}

// A real backend process killed and restarted: unlike an in-process server,
// nothing else in the bard's process wakes its channel, so this shows the
// channel itself reconnects promptly.
TEST(BardWriterProcessTest, ReconnectsSoonToABackendProcessRestartedAfterKill) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  absl::StatusOr<std::string> token = ReadTokenFile(backend.token_file());
  ASSERT_TRUE(token.ok()) << token.status();
  BardWriterOptions options;
  options.retry_budget = absl::Seconds(30);
  options.max_backoff = absl::Milliseconds(200);
  BardWriter writer(backend.address(), *token, options);
  ASSERT_TRUE(writer.AwardMedal(Gold("Gauls", "")).ok());
  for (int restart = 0; restart < 2; ++restart) {
    backend.Kill(SIGKILL);
    const int64_t retries_before = writer.retries();
    absl::Time up_at;
    absl::Status started;
    std::thread starter([&] {
      const absl::Time give_up = absl::Now() + absl::Seconds(30);
      while (writer.retries() < retries_before + 8 && absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(5));
      }
      started = backend.Start();
      up_at = absl::Now();
    });
    absl::StatusOr<v1::WriteReply> reply = writer.AwardMedal(Gold("Gauls", ""));
    const absl::Time done_at = absl::Now();
    starter.join();
    ASSERT_TRUE(started.ok()) << started;
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->change().medals().gold(), restart + 2);
    EXPECT_LT(done_at - up_at, absl::Seconds(3)) << "restart " << restart;
  }
}

TEST_F(BardWriterTest, GivesUpWithTheLastErrorWhenTheBudgetIsSpent) {
  BardWriterOptions options;
  options.retry_budget = absl::Milliseconds(300);
  BardWriter writer(absl::StrCat("127.0.0.1:", harness::PickFreePort()), kToken, options);
  absl::StatusOr<v1::WriteReply> reply = writer.AwardMedal(Gold("Gauls", ""));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(reply.status().message(), HasSubstr("gave up after"));
  EXPECT_GE(writer.retries(), 1);
}

TEST_F(BardWriterTest, KeepsTryingUntilTheWholeBudgetIsSpent) {
  // The doubling backoff would overshoot the budget's end; the last pause
  // is cut short instead, so the backend gets the whole budget to return.
  BardWriterOptions options;
  options.retry_budget = absl::Seconds(2);
  BardWriter writer(absl::StrCat("127.0.0.1:", harness::PickFreePort()), kToken, options);
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::WriteReply> reply = writer.AwardMedal(Gold("Gauls", ""));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_GE(absl::Now() - start, options.retry_budget);
}

TEST_F(BardWriterTest, StopEndsRetryingWithCancelled) {
  absl::Notification stop;
  stop.Notify();
  BardWriterOptions options;
  options.stop = &stop;
  BardWriter writer(absl::StrCat("127.0.0.1:", harness::PickFreePort()), kToken, options);
  absl::StatusOr<v1::WriteReply> reply = writer.AwardMedal(Gold("Gauls", ""));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(reply.status().message(), HasSubstr("UNAVAILABLE"));
}

TEST_F(BardWriterTest, GetBoardListsTheGames) {
  BardWriter writer(StartBackend(), kToken);
  absl::StatusOr<v1::Board> board = writer.GetBoard();
  ASSERT_TRUE(board.ok()) << board.status();
  EXPECT_EQ(board->events_size(), static_cast<int>(Games::Default().events().size()));
  EXPECT_EQ(board->medals_size(), static_cast<int>(Games::Default().teams().size()));
}

}  // namespace
}  // namespace podium
