// The ranking every reader of the medal table uses (common/standings.h):
// gold, then silver, then bronze; shared ranks that skip; by team within a
// rank; totals.
#include "common/standings.h"

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

v1::MedalTally Tally(const std::string& team, int gold, int silver, int bronze) {
  v1::MedalTally tally;
  tally.set_team(team);
  tally.set_gold(gold);
  tally.set_silver(silver);
  tally.set_bronze(bronze);
  tally.set_version(7);
  return tally;
}

v1::Standings Rank(std::initializer_list<v1::MedalTally> tallies) {
  google::protobuf::RepeatedPtrField<v1::MedalTally> field;
  for (const v1::MedalTally& tally : tallies) *field.Add() = tally;
  return RankStandings(field);
}

std::vector<std::pair<int, std::string>> RanksAndTeams(const v1::Standings& standings) {
  std::vector<std::pair<int, std::string>> got;
  for (const v1::Standing& s : standings.standings()) {
    got.emplace_back(s.rank(), s.tally().team());
  }
  return got;
}

TEST(StandingsTest, RankedByGoldSilverBronzeWithSharedRanksThatSkip) {
  const v1::Standings standings = Rank(
      {Tally("Romans", 1, 2, 0), Tally("Gauls", 2, 0, 0), Tally("Britons", 1, 2, 0),
       Tally("Egyptians", 0, 5, 9), Tally("Goths", 1, 1, 7)});
  EXPECT_THAT(RanksAndTeams(standings),
              ElementsAre(Pair(1, "Gauls"), Pair(2, "Britons"), Pair(2, "Romans"),
                          Pair(4, "Goths"), Pair(5, "Egyptians")));
  EXPECT_EQ(standings.standings(4).total(), 14);
  EXPECT_EQ(standings.standings(0).tally().version(), 7);
}

TEST(StandingsTest, NoMedalsAtAllIsOneSharedFirstPlace) {
  const v1::Standings standings = Rank({Tally("Romans", 0, 0, 0), Tally("Gauls", 0, 0, 0)});
  EXPECT_THAT(RanksAndTeams(standings), ElementsAre(Pair(1, "Gauls"), Pair(1, "Romans")));
  EXPECT_TRUE(Rank({}).standings().empty());
}

TEST(StandingsTest, MoreSilverNeverBeatsOneMoreGold) {
  const v1::Standings standings = Rank({Tally("Romans", 0, 40, 40), Tally("Gauls", 1, 0, 0)});
  EXPECT_THAT(RanksAndTeams(standings), ElementsAre(Pair(1, "Gauls"), Pair(2, "Romans")));
}

}  // namespace
}  // namespace podium
