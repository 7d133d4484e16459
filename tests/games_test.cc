#include "backend/games.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(GamesTest, ParsesTeamsAndEventsInOrder) {
  absl::StatusOr<Games> games = Games::Parse(
      "# a comment\n\nteam Gauls\n  team\tRomans  \nevent menhir-put\n"
      "event 100m\n",
      "g.txt");
  ASSERT_TRUE(games.ok()) << games.status();
  EXPECT_THAT(games->teams(), ElementsAre("Gauls", "Romans"));
  EXPECT_THAT(games->events(), ElementsAre("menhir-put", "100m"));
  EXPECT_TRUE(games->HasTeam("Gauls"));
  EXPECT_FALSE(games->HasTeam("Goths"));
  EXPECT_TRUE(games->HasEvent("100m"));
  EXPECT_FALSE(games->HasEvent("Gauls"));
}

TEST(GamesTest, AnOldFileMeansEveryTeamInEveryEventForOneOfEachMedal) {
  absl::StatusOr<Games> games = Games::Parse("team Gauls\nteam Romans\nevent x\n", "g.txt");
  ASSERT_TRUE(games.ok()) << games.status();
  EXPECT_THAT(games->TeamsOf("x"), ElementsAre("Gauls", "Romans"));
  ASSERT_EQ(games->spec().teams_size(), 2);
  EXPECT_EQ(games->spec().teams(0).name(), "Gauls");
  const v1::EventInfo& info = games->InfoOf("x");
  EXPECT_EQ(info.mark(), v1::MARK_POINTS);
  EXPECT_EQ(info.golds() * 100 + info.silvers() * 10 + info.bronzes(), 111);
}

TEST(GamesTest, TeamsHaveCodesAndNamesAndEventsTheirOwnTeamsMarksAndMedals) {
  absl::StatusOr<Games> games = Games::Parse(
      "team USA United States of America  # trailing spaces and comment go\n"
      "team FRA  France\n"
      "team CIV C\xC3\xB4te d'Ivoire\n"
      "event judo-73kg teams=CIV,USA,JPN mark=rank medals=1,1,2\n"
      "event marathon mark=time\n"
      "team JPN Japan\n",
      "g.txt");
  ASSERT_TRUE(games.ok()) << games.status();
  EXPECT_THAT(games->teams(), ElementsAre("USA", "FRA", "CIV", "JPN"));
  EXPECT_EQ(games->spec().teams(0).name(), "United States of America");
  EXPECT_EQ(games->spec().teams(1).name(), "France");
  EXPECT_EQ(games->spec().teams(2).name(), "C\xC3\xB4te d'Ivoire");
  // An event's teams come in the games' order, whatever order it lists.
  EXPECT_THAT(games->TeamsOf("judo-73kg"), ElementsAre("USA", "CIV", "JPN"));
  EXPECT_TRUE(games->TakesPart("judo-73kg", "CIV"));
  EXPECT_FALSE(games->TakesPart("judo-73kg", "FRA"));
  EXPECT_FALSE(games->TakesPart("curling", "FRA"));
  EXPECT_THAT(games->TeamsOf("marathon"), ElementsAre("USA", "FRA", "CIV", "JPN"));
  const v1::EventInfo& judo = games->InfoOf("judo-73kg");
  EXPECT_EQ(judo.mark(), v1::MARK_RANK);
  EXPECT_EQ(judo.golds(), 1);
  EXPECT_EQ(judo.silvers(), 1);
  EXPECT_EQ(judo.bronzes(), 2);
  EXPECT_EQ(games->InfoOf("marathon").mark(), v1::MARK_TIME);
}

TEST(GamesTest, TrailingCommentsAndAByteOrderMarkAreIgnored) {
  absl::StatusOr<Games> games = Games::Parse(
      "\xEF\xBB\xBFteam Gauls # the home side\nteam Romans\t#\n"
      "event menhir-put#no space\n",
      "g.txt");
  ASSERT_TRUE(games.ok()) << games.status();
  EXPECT_THAT(games->teams(), ElementsAre("Gauls", "Romans"));
  EXPECT_THAT(games->events(), ElementsAre("menhir-put"));
}

TEST(GamesTest, DefaultIsGaulsAgainstRomans) {
  Games games = Games::Default();
  EXPECT_TRUE(games.HasTeam("Gauls"));
  EXPECT_TRUE(games.HasTeam("Romans"));
  EXPECT_GE(games.events().size(), 3u);
  EXPECT_GE(games.teams().size(), 3u) << "bronze needs a third team";
}

struct BadGames {
  const char* name;  // the test's name: stable from build to build
  const char* text;
  const char* message;
};

std::string CaseName(const ::testing::TestParamInfo<BadGames>& info) {
  return info.param.name;
}
// What ctest lists beside the name, instead of the struct's bytes.
void PrintTo(const BadGames& bad, std::ostream* os) { *os << bad.name; }

class GamesErrorTest : public ::testing::TestWithParam<BadGames> {};

TEST_P(GamesErrorTest, RejectsWithLineAndReason) {
  absl::StatusOr<Games> games = Games::Parse(GetParam().text, "g.txt");
  ASSERT_FALSE(games.ok());
  EXPECT_EQ(games.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(games.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, GamesErrorTest,
    ::testing::Values(
        BadGames{"UnknownDeclaration", "team Gauls\nplayer Asterix\nevent x\n",
                 "g.txt:2: expected 'team CODE [NAME]' or 'event NAME [OPTION...]'"},
        BadGames{"TwoNames", "team Gauls\nevent a b\n",
                 "g.txt:2: unknown or repeated event option 'b'"},
        BadGames{"UndeclaredTeamInAnEvent", "team Gauls\nevent judo teams=Gauls,Goths\n",
                 "g.txt:2: event 'judo' names team 'Goths', which no 'team' line declares"},
        BadGames{"TeamTwiceInAnEvent", "team Gauls\nevent judo teams=Gauls,Gauls\n",
                 "g.txt:2: event 'judo' names team 'Gauls' twice"},
        BadGames{"EmptyTeamList", "team Gauls\nevent judo teams=\n",
                 "g.txt:2: team name is empty"},
        BadGames{"UnknownMark", "team Gauls\nevent judo mark=style\n",
                 "g.txt:2: unknown mark 'style': use points, time, distance or rank"},
        BadGames{"RepeatedMark", "team Gauls\nevent judo mark=rank mark=time\n",
                 "g.txt:2: unknown or repeated event option 'mark=time'"},
        BadGames{"BadMedals", "team Gauls\nevent judo medals=1,1\n",
                 "g.txt:2: medals='1,1' must be three counts 0 to 9"},
        BadGames{"DisplayNameNotUtf8", "team GAU Gau\xffls\nevent judo\n",
                 "g.txt:1: team 'GAU' has a name that is not UTF-8"},
        BadGames{"DeclaredTwice", "team Gauls\nteam Gauls\nevent x\n",
                 "g.txt:2: team 'Gauls' is declared twice"},
        BadGames{"BadCharacter", "team Ga/uls\nevent x\n", "g.txt:1: team name 'Ga/uls'"},
        BadGames{"NoEvent", "team Gauls\n", "at least one team and one event"},
        BadGames{"Empty", "", "at least one team and one event"},
        BadGames{"NoTeam", "event x\n", "at least one team and one event"}),
    CaseName);

TEST(GamesTest, RejectsOversizedName) {
  std::string text = "team " + std::string(1 << 20, 'a') + "\nevent x\n";
  absl::StatusOr<Games> games = Games::Parse(text, "g.txt");
  ASSERT_FALSE(games.ok());
  EXPECT_THAT(games.status().message(), HasSubstr("1048576 bytes long"));
}

TEST(GamesTest, ANameStandsForItsEventOrTeamAndABothNameMustSayWhich) {
  absl::StatusOr<Games> games = Games::Parse(
      "team USA\nteam judo\nevent judo\nevent 100m\n", "g");
  ASSERT_TRUE(games.ok()) << games.status();
  EXPECT_EQ(*games->KeyOf("USA"), "team:USA");
  EXPECT_EQ(*games->KeyOf("100m"), "event:100m");
  EXPECT_EQ(*games->KeyOf("event:judo"), "event:judo");
  EXPECT_EQ(*games->KeyOf("team:judo"), "team:judo");
  absl::StatusOr<std::string> both = games->KeyOf("judo");
  EXPECT_EQ(both.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(both.status().message(), HasSubstr("event:judo or team:judo"));
  EXPECT_EQ(games->KeyOf("FRA").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(games->KeyOf("event:USA").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(games->KeyOf("team:100m").status().code(), absl::StatusCode::kNotFound);
}

TEST(GamesTest, MissingFileIsNotFound) {
  absl::StatusOr<Games> games = Games::LoadFile("/nonexistent/games.txt");
  ASSERT_FALSE(games.ok());
  EXPECT_EQ(games.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(games.status().message(), HasSubstr("/nonexistent/games.txt"));
}

}  // namespace
}  // namespace podium
