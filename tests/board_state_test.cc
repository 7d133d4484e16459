// The rules by which writes change the board (backend/board_state.h) for
// games whose events are not all-play-all: a write naming a team that is
// not in the event is refused with FAILED_PRECONDITION naming both, a medal
// the event does not award likewise, and each event lists only its teams.
#include "backend/board_state.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Games Judo() {
  absl::StatusOr<Games> games = Games::Parse(
      "team USA United States of America\nteam FRA France\nteam JPN Japan\n"
      "event judo-73kg teams=FRA,JPN mark=rank medals=1,1,2\n"
      "event relay medals=1,1,0\n",
      "judo.txt");
  EXPECT_TRUE(games.ok()) << games.status();
  return *std::move(games);
}

v1::RecordScoreRequest Score(const std::string& event, const std::string& team) {
  v1::RecordScoreRequest request;
  request.set_idempotency_key("k");
  request.set_event(event);
  v1::TeamPoints* points = request.add_points();
  points->set_team(team);
  points->set_points(1);
  return request;
}

v1::AwardMedalRequest Award(const std::string& team, v1::Medal medal,
                            const std::string& event) {
  v1::AwardMedalRequest request;
  request.set_idempotency_key("k");
  request.set_team(team);
  request.set_medal(medal);
  request.set_event(event);
  return request;
}

std::vector<std::string> TeamsListed(const v1::EventScore& score) {
  std::vector<std::string> teams;
  for (const v1::TeamPoints& points : score.points()) teams.push_back(points.team());
  return teams;
}

TEST(BoardStateTest, AnEventListsOnlyItsTeamsAndTheBoardCarriesTheGames) {
  BoardState state(Judo());
  absl::StatusOr<v1::EventScore> judo = state.GetEvent("judo-73kg");
  ASSERT_TRUE(judo.ok()) << judo.status();
  EXPECT_THAT(TeamsListed(*judo), ElementsAre("FRA", "JPN"));
  EXPECT_THAT(TeamsListed(*state.GetEvent("relay")), ElementsAre("USA", "FRA", "JPN"));
  const v1::Board board = state.ToBoard(0);
  ASSERT_EQ(board.games().teams_size(), 3);
  EXPECT_EQ(board.games().teams(0).code(), "USA");
  EXPECT_EQ(board.games().teams(0).name(), "United States of America");
  ASSERT_EQ(board.games().events_size(), 2);
  EXPECT_EQ(board.games().events(0).bronzes(), 2);
  EXPECT_EQ(board.medals_size(), 3);
}

TEST(BoardStateTest, AScoreForATeamNotInTheEventIsAFailedPreconditionNamingBoth) {
  BoardState state(Judo());
  EXPECT_TRUE(state.Validate(Score("judo-73kg", "JPN")).ok());
  const absl::Status refused = state.Validate(Score("judo-73kg", "USA"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(),
              HasSubstr("team 'USA' does not take part in event 'judo-73kg'"));
  // A team outside the games altogether is still NOT_FOUND.
  EXPECT_EQ(state.Validate(Score("judo-73kg", "GBR")).code(), absl::StatusCode::kNotFound);
}

TEST(BoardStateTest, AMedalOfAnEventGoesOnlyToItsTeamsAndOnlyIfTheEventAwardsIt) {
  BoardState state(Judo());
  EXPECT_TRUE(state.Validate(Award("FRA", v1::BRONZE, "judo-73kg")).ok());
  absl::Status refused = state.Validate(Award("USA", v1::GOLD, "judo-73kg"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(),
              HasSubstr("team 'USA' does not take part in event 'judo-73kg'"));
  refused = state.Validate(Award("USA", v1::BRONZE, "relay"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("event 'relay' awards no bronze medal"));
  // Without an event a medal is checked against the games only, as before.
  EXPECT_TRUE(state.Validate(Award("USA", v1::BRONZE, "")).ok());
}

TEST(BoardStateTest, ARevocationNeedsAReasonAndNeverTakesATallyBelowZero) {
  BoardState state(Judo());
  v1::AwardMedalRequest revoke = Award("FRA", v1::BRONZE, "judo-73kg");
  revoke.set_revoke(true);
  absl::Status refused = state.Validate(revoke);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("a revocation needs a reason"));
  revoke.set_reason("disqualified");
  ASSERT_TRUE(state.Validate(revoke).ok());

  v1::MedalTally none;
  none.set_team("FRA");
  absl::StatusOr<v1::MedalTally> below = BoardState::ApplyMedal(none, revoke, 5, 1);
  EXPECT_EQ(below.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(below.status().message(), HasSubstr("team 'FRA' has no bronze medal to revoke"));

  v1::MedalTally two = none;
  two.set_bronze(2);
  two.set_gold(1);
  absl::StatusOr<v1::MedalTally> one = BoardState::ApplyMedal(two, revoke, 6, 1);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->bronze(), 1);
  EXPECT_EQ(one->gold(), 1);
  EXPECT_EQ(one->version(), 6);

  v1::AwardMedalRequest wordy = Award("FRA", v1::GOLD, "");
  wordy.set_reason(std::string(501, 'x'));
  EXPECT_EQ(state.Validate(wordy).code(), absl::StatusCode::kInvalidArgument);
}

TEST(BoardStateTest, AStoredScoreTakesTheShapeOfTheEventsTeamsNow) {
  BoardState state(Judo());
  v1::Change change;
  change.set_seq(4);
  v1::EventScore* stored = change.mutable_event();
  stored->set_event("judo-73kg");
  stored->set_version(4);
  for (const char* team : {"USA", "FRA"}) {  // USA no longer takes part
    v1::TeamPoints* points = stored->add_points();
    points->set_team(team);
    points->set_points(7);
  }
  ASSERT_TRUE(state.Install(change));
  absl::StatusOr<v1::EventScore> judo = state.GetEvent("judo-73kg");
  ASSERT_TRUE(judo.ok());
  EXPECT_THAT(TeamsListed(*judo), ElementsAre("FRA", "JPN"));
  EXPECT_EQ(judo->points(0).points(), 7);
  EXPECT_EQ(judo->points(1).points(), 0);
}

}  // namespace
}  // namespace podium
