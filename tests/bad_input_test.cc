// Guarantee 9 against the real binaries: bad input gets a clear status, no
// state changes, and the backend keeps serving.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/auth.h"
#include "common/health.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    stub_ = backend_.NewStub();
    // One good write so "no state change" is checked against real state.
    v1::AwardMedalRequest award;
    award.set_idempotency_key("seed");
    award.set_team("Gauls");
    award.set_medal(v1::GOLD);
    v1::WriteReply reply;
    ASSERT_TRUE(Write(award, "test-token", &reply).ok());
    before_ = Board();
  }

  grpc::Status Write(const v1::AwardMedalRequest& request, const std::string& token,
                     v1::WriteReply* reply) {
    grpc::ClientContext context;
    if (!token.empty()) AddBearerToken(&context, token);
    return stub_->AwardMedal(&context, request, reply);
  }
  grpc::Status Write(const v1::RecordScoreRequest& request, v1::WriteReply* reply) {
    grpc::ClientContext context;
    AddBearerToken(&context, "test-token");
    return stub_->RecordScore(&context, request, reply);
  }

  v1::Board Board() {
    grpc::ClientContext context;
    v1::Board board;
    EXPECT_TRUE(stub_->GetBoard(&context, v1::GetBoardRequest(), &board).ok());
    return board;
  }

  // Nothing changed and the backend still answers its health check.
  void ExpectUnchangedAndServing() {
    v1::Board after = Board();
    EXPECT_EQ(after.SerializeAsString(), before_.SerializeAsString());
    EXPECT_TRUE(CheckHealth(backend_.address(), absl::Seconds(5)).ok());
  }

  std::pair<int, std::string> RunBard(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {harness::BinaryPath("bard/podium-bard"),
                                     "--backend=" + backend_.address(),
                                     "--write_token_file=" + backend_.token_file()};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = dir_.path() + "/bard.log";
    std::remove(log.c_str());
    absl::StatusOr<harness::Subprocess> bard = harness::Subprocess::Start(argv, log);
    EXPECT_TRUE(bard.ok());
    absl::StatusOr<int> status = bard->Wait(absl::Seconds(60));
    EXPECT_TRUE(status.ok());
    return {WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, harness::ReadFileOrEmpty(log)};
  }

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  std::unique_ptr<v1::Backend::Stub> stub_;
  v1::Board before_;
};

v1::RecordScoreRequest Score(const std::string& event, const std::string& team, int64_t points) {
  v1::RecordScoreRequest request;
  request.set_idempotency_key(absl::StrCat("k-", event.size(), "-", team.size(), "-", points));
  request.set_event(event);
  v1::TeamPoints* p = request.add_points();
  p->set_team(team);
  p->set_points(points);
  return request;
}

TEST_F(BadInputTest, UnknownNamesAreNotFound) {
  v1::WriteReply reply;
  grpc::Status s = Write(Score("curling", "Gauls", 1), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("unknown event 'curling'"));
  s = Write(Score("javelin", "Goths", 1), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("unknown team 'Goths'"));
  ExpectUnchangedAndServing();
}

TEST_F(BadInputTest, NegativeAndAbsurdPointsAreInvalid) {
  v1::WriteReply reply;
  for (int64_t points : {int64_t{-1}, int64_t{1} << 40}) {
    grpc::Status s = Write(Score("javelin", "Gauls", points), &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << points;
    EXPECT_THAT(s.error_message(), HasSubstr("must be 0 to"));
  }
  ExpectUnchangedAndServing();
}

TEST_F(BadInputTest, MegabyteNameIsRejectedBriefly) {
  // A malformed name is the caller's mistake, INVALID_ARGUMENT, as the
  // frontends say; the answer does not echo the megabyte.
  v1::WriteReply reply;
  const std::string huge(1 << 20, 'G');
  grpc::Status s = Write(Score("javelin", huge, 1), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(s.error_message().size(), 300u);
  grpc::ClientContext context;
  v1::GetEventRequest get;
  get.set_event(huge);
  v1::EventScore score;
  EXPECT_EQ(stub_->GetEvent(&context, get, &score).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ExpectUnchangedAndServing();
}

TEST_F(BadInputTest, NegativeSeqsAndUnparsableBodiesAreInvalidArgument) {
  grpc::ClientContext since_context;
  v1::ChangesSinceRequest since;
  since.set_after_seq(-1);
  v1::ChangesSinceReply changes;
  grpc::Status s = stub_->ChangesSince(&since_context, since, &changes);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("negative"));
  // A body that is no GetEventRequest (field 1 of wire type 7), on a
  // synchronous and on a callback method: gRPC alone would answer INTERNAL
  // and UNIMPLEMENTED, both without a word.
  auto channel = grpc::CreateChannel(backend_.address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  for (const char* method : {"/podium.v1.Backend/GetEvent", "/podium.v1.Backend/RecordScore"}) {
    const std::string garbage = "\x0f\xff\xff";
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    AddBearerToken(&context, "test-token");
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                      [&](grpc::Status st) {
                        status = std::move(st);
                        done.Notify();
                      });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10))) << method;
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_THAT(status.error_message(), HasSubstr("does not parse")) << method;
  }
  ExpectUnchangedAndServing();
}

TEST_F(BadInputTest, MissingOrWrongTokenIsRefused) {
  v1::AwardMedalRequest award;
  award.set_idempotency_key("no-token");
  award.set_team("Romans");
  award.set_medal(v1::GOLD);
  v1::WriteReply reply;
  grpc::Status s = Write(award, "", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("Bearer"));
  s = Write(award, "not-the-token", &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("wrong write token"));
  ExpectUnchangedAndServing();
}

TEST_F(BadInputTest, MalformedReplayWritesNothing) {
  const std::string replay = dir_.path() + "/bad.replay";
  std::ofstream(replay) << "award Romans gold\naward Romans platinum\n";
  auto [code, output] = RunBard({"replay", replay});
  EXPECT_NE(code, 0);
  EXPECT_THAT(output, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(output, HasSubstr(":2"));
  ExpectUnchangedAndServing();
}

TEST_F(BadInputTest, AFixedReplayAppliesOnlyItsFixedLine) {
  // The operator's mistake: line 2 is over the backend's limit. Nothing of
  // the file may be written; once fixed, replaying it must not award the
  // gold of line 1 a second time.
  const std::string replay = dir_.path() + "/t.replay";
  std::ofstream(replay) << "award Romans gold event=menhir-put\n"
                           "score menhir-put Romans=30000000000\n";
  auto [code, output] = RunBard({"replay", replay});
  EXPECT_EQ(code, 1);
  EXPECT_THAT(output, HasSubstr("t.replay:2: points for 'Romans' are 30000000000"));
  ExpectUnchangedAndServing();

  std::ofstream(replay) << "award Romans gold event=menhir-put\n"
                           "score menhir-put Romans=3\n";
  std::tie(code, output) = RunBard({"--json", "replay", replay});
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr(R"({"applied":2,"duplicates":0})"));
  // A third edit: a new line; the two applied lines are skipped.
  std::ofstream(replay) << "# day one\naward Romans gold event=menhir-put\n"
                           "score menhir-put Romans=3\naward Romans silver\n";
  std::tie(code, output) = RunBard({"--json", "replay", replay});
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr(R"({"applied":1,"duplicates":2})"));
  v1::Board board = Board();
  for (const v1::MedalTally& tally : board.medals()) {
    if (tally.team() != "Romans") continue;
    EXPECT_EQ(tally.gold(), 1);
    EXPECT_EQ(tally.silver(), 1);
  }
}

TEST_F(BadInputTest, ExitStatusesFollowTheDocs) {
  // --help answers on stdout with 0; a flag value that does not parse is a
  // usage error, 2, naming the flag.
  auto [code, output] = RunBard({"--help"});
  EXPECT_EQ(code, 0);
  EXPECT_THAT(output, HasSubstr("podium-bard"));
  EXPECT_THAT(output, HasSubstr("--retry_budget"));
  std::tie(code, output) = RunBard({"--duration=abc", "simulate"});
  EXPECT_EQ(code, 2);
  EXPECT_THAT(output, HasSubstr("--duration"));
  std::tie(code, output) = RunBard({"--no_such_flag", "simulate"});
  EXPECT_EQ(code, 2);
  EXPECT_THAT(output, HasSubstr("unknown flag '--no_such_flag'"));
  for (const char* binary : {"backend/podium-backend", "frontend/podium-frontend",
                             "client/podium-client", "tools/chaos/chaos_main"}) {
    const std::string log = dir_.path() + "/help.log";
    absl::StatusOr<harness::Subprocess> process =
        harness::Subprocess::Start({harness::BinaryPath(binary), "--help"}, log);
    ASSERT_TRUE(process.ok()) << binary;
    absl::StatusOr<int> status = process->Wait(absl::Seconds(30));
    ASSERT_TRUE(status.ok()) << binary;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << binary;
    EXPECT_THAT(harness::ReadFileOrEmpty(log), HasSubstr("Flags from")) << binary;
  }
}

TEST_F(BadInputTest, ASecondServerOnTheSamePortRefusesToStart) {
  // gRPC's default SO_REUSEPORT would let it bind and answer every other
  // read from its own database.
  harness::ScopedTempDir other_dir;
  const std::string log = other_dir.path() + "/second.log";
  absl::StatusOr<harness::Subprocess> process = harness::Subprocess::Start(
      {harness::BinaryPath("backend/podium-backend"), "--listen=" + backend_.address(),
       "--db=" + other_dir.path() + "/other.db", "--write_token_file=" + backend_.token_file()},
      log);
  ASSERT_TRUE(process.ok());
  absl::StatusOr<int> status = process->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << "the second backend kept running";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1);
  EXPECT_THAT(harness::ReadFileOrEmpty(log),
              HasSubstr(absl::StrCat("cannot listen on '", backend_.address(),
                                     "': the port is already in use")));
  ExpectUnchangedAndServing();
}

TEST_F(BadInputTest, BardReportsServerErrorsWithStatusAndExitCode) {
  auto [code, output] = RunBard({"award", "Goths", "gold"});
  EXPECT_NE(code, 0);
  EXPECT_THAT(output, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(output, HasSubstr("Goths"));
  std::ofstream(dir_.path() + "/wrong.token") << "nope\n";
  std::vector<std::string> argv = {"--write_token_file=" + dir_.path() + "/wrong.token", "award",
                                   "Gauls", "gold"};
  std::tie(code, output) = RunBard(argv);
  EXPECT_NE(code, 0);
  EXPECT_THAT(output, HasSubstr("PERMISSION_DENIED"));
  ExpectUnchangedAndServing();
}

TEST(BadGamesFileTest, BackendRefusesToStartAndSaysWhere) {
  harness::ScopedTempDir dir;
  const std::string games = dir.path() + "/games.txt";
  std::ofstream(games) << "team Gauls\nteam Gauls\nevent x\n";
  harness::BackendProcess backend(dir.path(), {"--games=" + games});
  absl::Status started = backend.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.message(), HasSubstr("exited"));
  EXPECT_THAT(backend.log(), HasSubstr("games.txt:2: team 'Gauls' is declared twice"));
}

}  // namespace
}  // namespace podium::test
