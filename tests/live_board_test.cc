// What `podium-client top` draws: ranked standings and a board laid out to
// fit the terminal, newest values only.
#include "client/live_board.h"

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::MedalTally Tally(const std::string& team, int gold, int silver, int bronze,
                     int64_t version = 1) {
  v1::MedalTally tally;
  tally.set_team(team);
  tally.set_gold(gold);
  tally.set_silver(silver);
  tally.set_bronze(bronze);
  tally.set_version(version);
  return tally;
}

v1::Board SmallBoard() {
  v1::Board board;
  board.set_seq(10);
  for (const char* name : {"menhir-put", "javelin"}) {
    v1::EventScore* event = board.add_events();
    event->set_event(name);
    event->set_status(v1::SCHEDULED);
    for (const char* team : {"Gauls", "Romans"}) {
      v1::TeamPoints* points = event->add_points();
      points->set_team(team);
    }
  }
  *board.add_medals() = Tally("Gauls", 0, 0, 0);
  *board.add_medals() = Tally("Romans", 0, 0, 0);
  return board;
}

v1::SubscribeUpdate ScoreUpdate(const std::string& event, int64_t seq, int gauls) {
  v1::SubscribeUpdate update;
  update.mutable_change()->set_seq(seq);
  v1::EventScore* score = update.mutable_change()->mutable_event();
  score->set_event(event);
  score->set_status(v1::LIVE);
  score->set_version(seq);
  v1::TeamPoints* points = score->add_points();
  points->set_team("Gauls");
  points->set_points(gauls);
  return update;
}

TEST(LiveBoardTest, ShowsTheNewestValuesRankedAndTheLastUpdate) {
  LiveBoard board;
  board.Reset(SmallBoard());
  const absl::Time now = absl::FromUnixSeconds(1000);
  board.Apply(ScoreUpdate("javelin", 12, 7), now);
  board.Apply(ScoreUpdate("javelin", 11, 5), now);  // older: ignored
  v1::SubscribeUpdate medal;
  medal.mutable_change()->set_seq(13);
  *medal.mutable_change()->mutable_medals() = Tally("Romans", 1, 0, 0, 13);
  board.Apply(medal, now);
  EXPECT_TRUE(board.changed());
  const std::vector<std::string> lines =
      board.Render(80, 24, "127.0.0.1:7102", now + absl::Milliseconds(1500));
  EXPECT_FALSE(board.changed());
  const std::string screen = absl::StrJoin(lines, "\n");
  EXPECT_THAT(lines[0], HasSubstr("127.0.0.1:7102"));
  EXPECT_THAT(lines[0], HasSubstr("seq 13"));
  EXPECT_THAT(lines[0], HasSubstr("last update 1.5s ago"));
  EXPECT_THAT(screen, HasSubstr("javelin     live        Gauls 7"));
  EXPECT_THAT(screen, HasSubstr("menhir-put  start_list  Gauls 0 : Romans 0"));
  EXPECT_THAT(screen, ::testing::ContainsRegex("   1  Romans +1 +0 +0 +1"));
  EXPECT_THAT(screen, ::testing::ContainsRegex("   2  Gauls +0 +0 +0 +0"));
}

TEST(LiveBoardTest, FitsTheTerminalAndSaysWhatItLeftOut) {
  v1::Board big;
  for (int i = 0; i < 40; ++i) {
    v1::EventScore* event = big.add_events();
    event->set_event("event-" + std::to_string(i));
    v1::TeamPoints* points = event->add_points();
    points->set_team("a-team-with-a-rather-long-name-indeed-and-more");
  }
  for (int i = 0; i < 30; ++i) *big.add_medals() = Tally("team-" + std::to_string(i), 0, 0, 0);
  LiveBoard board;
  board.Reset(big);
  for (auto [width, height] : {std::pair(80, 24), std::pair(74, 19)}) {
    const std::vector<std::string> lines = board.Render(width, height, "f", absl::Now());
    EXPECT_EQ(static_cast<int>(lines.size()), height);
    for (const std::string& line : lines) EXPECT_LE(static_cast<int>(line.size()), width);
    const std::string screen = absl::StrJoin(lines, "\n");
    EXPECT_THAT(screen, HasSubstr("more events"));
    EXPECT_THAT(screen, HasSubstr("more teams"));
    EXPECT_THAT(lines.back(), StartsWith("q or Ctrl-C quits"));
  }
}

}  // namespace
}  // namespace podium
