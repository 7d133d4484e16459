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
                 "g.txt:2: expected 'team NAME' or 'event NAME'"},
        BadGames{"TwoNames", "team Gauls\nevent a b\n", "g.txt:2: expected"},
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

TEST(GamesTest, MissingFileIsNotFound) {
  absl::StatusOr<Games> games = Games::LoadFile("/nonexistent/games.txt");
  ASSERT_FALSE(games.ok());
  EXPECT_EQ(games.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(games.status().message(), HasSubstr("/nonexistent/games.txt"));
}

}  // namespace
}  // namespace podium
