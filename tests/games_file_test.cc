// A games file of codes, display names and events with teams of their own,
// through a real backend and frontend: a write naming a team that is not in
// its event is refused with FAILED_PRECONDITION and changes nothing, and
// every board (backend, frontend miss, frontend hit) carries the games.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"

namespace podium::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kGames[] =
    "team USA United States of America\n"
    "team FRA France\n"
    "team JPN Japan\n"
    "event judo-73kg teams=FRA,JPN mark=rank medals=1,1,2\n"
    "event marathon mark=time\n";

std::vector<std::string> TeamsListed(const v1::EventScore& score) {
  std::vector<std::string> teams;
  for (const v1::TeamPoints& points : score.points()) teams.push_back(points.team());
  return teams;
}

class GamesFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(games_) << kGames;
    ASSERT_EQ(backend_.Start(), absl::OkStatus()) << backend_.log();
    stub_ = backend_.NewStub();
  }

  grpc::Status Score(const std::string& event, const std::string& team, v1::WriteReply* reply) {
    grpc::ClientContext context;
    AddBearerToken(&context, harness::BackendProcess::write_token());
    v1::RecordScoreRequest request;
    request.set_idempotency_key(absl::StrCat("w-", ++writes_));
    request.set_event(event);
    v1::TeamPoints* points = request.add_points();
    points->set_team(team);
    points->set_points(1);
    return stub_->RecordScore(&context, request, reply);
  }

  v1::Board BackendBoard() {
    grpc::ClientContext context;
    v1::Board board;
    EXPECT_TRUE(stub_->GetBoard(&context, v1::GetBoardRequest(), &board).ok());
    return board;
  }

  static void ExpectTheGames(const v1::Board& board) {
    ASSERT_EQ(board.games().teams_size(), 3);
    EXPECT_EQ(board.games().teams(0).code(), "USA");
    EXPECT_EQ(board.games().teams(0).name(), "United States of America");
    ASSERT_EQ(board.games().events_size(), 2);
    EXPECT_EQ(board.games().events(0).mark(), v1::MARK_RANK);
    EXPECT_EQ(board.games().events(0).bronzes(), 2);
    EXPECT_EQ(board.games().events(1).mark(), v1::MARK_TIME);
    ASSERT_EQ(board.events_size(), 2);
    EXPECT_THAT(TeamsListed(board.events(0)), ElementsAre("FRA", "JPN"));
    EXPECT_THAT(TeamsListed(board.events(1)), ElementsAre("USA", "FRA", "JPN"));
  }

  harness::ScopedTempDir dir_;
  const std::string games_ = dir_.path() + "/games.txt";
  harness::BackendProcess backend_{dir_.path(), {"--games=" + games_}};
  std::unique_ptr<v1::Backend::Stub> stub_;
  int writes_ = 0;
};

TEST_F(GamesFileTest, AScoreForATeamNotInTheEventIsRefusedAndChangesNothing) {
  v1::WriteReply reply;
  ASSERT_TRUE(Score("judo-73kg", "JPN", &reply).ok());
  const int64_t seq = BackendBoard().seq();

  const grpc::Status refused = Score("judo-73kg", "USA", &reply);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("team 'USA' does not take part in event 'judo-73kg'"));
  EXPECT_EQ(BackendBoard().seq(), seq);
  // The same team in an event every team contests is a write like any other.
  EXPECT_TRUE(Score("marathon", "USA", &reply).ok());
}

TEST_F(GamesFileTest, EveryBoardCarriesTheTeamsNamesAndEachEventsOwnTeams) {
  ExpectTheGames(BackendBoard());
  harness::FrontendCluster frontends(dir_.path(), backend_.address(), 1, "pull");
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  auto frontend = frontends.NewStub(0);
  for (const char* read : {"a miss", "a hit"}) {
    SCOPED_TRACE(read);
    grpc::ClientContext context;
    v1::Board board;
    ASSERT_TRUE(frontend->GetBoard(&context, v1::GetScoreboardRequest(), &board).ok());
    ExpectTheGames(board);
  }
}

}  // namespace
}  // namespace podium::test
