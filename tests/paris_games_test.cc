// The Paris 2024 games that ship in games/: the real bard replays the medal
// file from empty into a real backend loaded with the games file, and the
// standings a frontend then serves are the final ones as published (the
// sources are named in the files' headers).
#include <sys/wait.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/scoreboard_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"

namespace podium::test {
namespace {

const std::string kGames = std::string(PODIUM_SOURCE_DIR) + "/games/paris2024.games";
const std::string kMedals = std::string(PODIUM_SOURCE_DIR) + "/games/paris2024-medals.replay";

struct Published {
  int rank;
  const char* team;
  int64_t gold, silver, bronze;
};

// The top of the table at the close of the Games (olympics.com; Wikipedia's
// "2024 Summer Olympics medal table").
constexpr Published kTop[] = {
    {1, "USA", 40, 44, 42}, {2, "CHN", 40, 27, 24}, {3, "JPN", 20, 12, 13}, {4, "AUS", 18, 19, 16},
    {5, "FRA", 16, 26, 22}, {6, "NED", 15, 7, 12},  {7, "GBR", 14, 22, 29},
};

class ParisGamesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(backend_.Start(), absl::OkStatus()) << backend_.log(); }

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path(), {"--games=" + kGames}};
};

TEST_F(ParisGamesTest, ReplayingTheMedalsFromEmptyGivesThePublishedStandings) {
  const std::string bard_log = dir_.path() + "/bard.log";
  absl::StatusOr<harness::Subprocess> bard = harness::Subprocess::Start(
      {harness::BinaryPath("bard/podium-bard"), "--backend=" + backend_.address(),
       "--write_token_file=" + backend_.token_file(), "replay", kMedals},
      bard_log);
  ASSERT_TRUE(bard.ok()) << bard.status();
  absl::StatusOr<int> exit = bard->Wait(absl::Seconds(300));
  ASSERT_TRUE(exit.ok()) << exit.status();
  ASSERT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << "the bard failed:\n"
                                                           << harness::ReadFileOrEmpty(bard_log);

  harness::FrontendCluster frontends(dir_.path(), backend_.address(), 1, "push");
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
      ScoreboardClient::ConnectToFrontends({frontends.address(0)});
  ASSERT_TRUE(client.ok()) << client.status();

  absl::StatusOr<v1::Standings> standings = (*client)->GetStandings();
  ASSERT_TRUE(standings.ok()) << standings.status();
  ASSERT_EQ(standings->standings_size(), 206) << "one row per delegation";
  for (size_t i = 0; i < std::size(kTop); ++i) {
    const v1::Standing& row = standings->standings(static_cast<int>(i));
    SCOPED_TRACE(absl::StrCat("row ", i + 1, ": ", row.ShortDebugString()));
    EXPECT_EQ(row.rank(), kTop[i].rank);
    EXPECT_EQ(row.tally().team(), kTop[i].team);
    EXPECT_EQ(row.tally().gold(), kTop[i].gold);
    EXPECT_EQ(row.tally().silver(), kTop[i].silver);
    EXPECT_EQ(row.tally().bronze(), kTop[i].bronze);
  }
  int64_t gold = 0, silver = 0, bronze = 0, medalling = 0;
  for (const v1::Standing& row : standings->standings()) {
    gold += row.tally().gold();
    silver += row.tally().silver();
    bronze += row.tally().bronze();
    if (row.total() > 0) ++medalling;
  }
  // 329 events; a tie for silver in one, shared and double bronzes in 57.
  EXPECT_EQ(gold, 329);
  EXPECT_EQ(silver, 330);
  EXPECT_EQ(bronze, 385);
  EXPECT_EQ(medalling, 92);

  absl::StatusOr<v1::Board> board = (*client)->GetBoard();
  ASSERT_TRUE(board.ok()) << board.status();
  EXPECT_EQ(board->games().teams_size(), 206);
  EXPECT_EQ(board->games().events_size(), 329);
  EXPECT_EQ(board->games().teams(0).code(), "AFG");
  EXPECT_EQ(board->games().teams(0).name(), "Afghanistan");

  // Every medal of the United States is one change of its tally.
  absl::StatusOr<v1::History> history = (*client)->GetHistory("USA");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->changes_size(), 40 + 44 + 42);
  const v1::MedalTally& last = history->changes().rbegin()->medals();
  EXPECT_EQ(last.gold(), 40);
  EXPECT_EQ(last.silver(), 44);
  EXPECT_EQ(last.bronze(), 42);
}

}  // namespace
}  // namespace podium::test
