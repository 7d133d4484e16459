// Reading through frontends with real processes (guarantee 8 from the
// client's side): the `frontends` listing matches the cluster, a new client
// is placed on the least-loaded frontend, reads fail over when the
// client's frontend is SIGKILLed and return home when it revives; a
// client learns of frontends that started after it was placed.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/commands.h"
#include "client/frontend_picker.h"
#include "client/scoreboard_client.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"
#include "tests/client_testing.h"

namespace podium::test {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

class ClientFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    ASSERT_EQ(frontends_.StartAll(), absl::OkStatus());
    ASSERT_TRUE(
        frontends_.WaitForMaster(frontends_.address(frontends_.HighestPid()), absl::Seconds(15))
            .ok());
  }

  std::vector<std::string> Seeds() const {
    std::vector<std::string> seeds;
    for (int i = 0; i < frontends_.size(); ++i) seeds.push_back(frontends_.address(i));
    return seeds;
  }

  std::unique_ptr<ScoreboardClient> Connect(uint64_t placement_seed = 1) {
    ScoreboardClientOptions options;
    options.placement_seed = placement_seed;
    absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
        ScoreboardClient::ConnectToFrontends(Seeds(), options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  int IndexOf(const std::string& address) const {
    for (int i = 0; i < frontends_.size(); ++i) {
      if (frontends_.address(i) == address) return i;
    }
    return -1;
  }

  int64_t Write(const std::string& event, int64_t points) {
    auto stub = backend_.NewStub();
    grpc::ClientContext context;
    AddBearerToken(&context, "test-token");
    v1::RecordScoreRequest request;
    request.set_idempotency_key(absl::StrCat("cf-", ++writes_));
    request.set_event(event);
    v1::TeamPoints* p = request.add_points();
    p->set_team("Gauls");
    p->set_points(points);
    v1::WriteReply reply;
    grpc::Status status = stub->RecordScore(&context, request, &reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return reply.change().seq();
  }

  // Polls frontend 0's listing (the first seed, which new clients ask)
  // until the clients it reports add up to `total`.
  bool WaitForTotalClients(int64_t total) {
    auto stub = frontends_.NewStub(0);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      v1::ListFrontendsReply reply;
      if (stub->ListFrontends(&context, v1::ListFrontendsRequest(), &reply).ok()) {
        int64_t sum = 0;
        for (const v1::FrontendInfo& info : reply.frontends()) sum += info.clients();
        if (sum == total) return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  harness::FrontendCluster frontends_{dir_.path(), backend_.address(), 3, "push"};
  int writes_ = 0;
};

TEST_F(ClientFailoverTest, FrontendsListingMatchesTheCluster) {
  std::unique_ptr<ScoreboardClient> client = Connect();
  ASSERT_NE(client, nullptr);
  absl::StatusOr<v1::ListFrontendsReply> reply = client->ListFrontends();
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->frontends_size(), 3);
  std::vector<std::string> addresses;
  int masters = 0;
  for (const v1::FrontendInfo& info : reply->frontends()) {
    addresses.push_back(info.address());
    const int i = IndexOf(info.address());
    ASSERT_GE(i, 0) << info.address();
    EXPECT_EQ(info.pid(), frontends_.pid(i)) << info.address();
    EXPECT_TRUE(info.alive()) << info.address();
    EXPECT_EQ(info.cache_mode(), v1::PUSH);
    if (info.master()) {
      ++masters;
      EXPECT_EQ(i, frontends_.HighestPid()) << "master is not the highest pid";
    }
  }
  EXPECT_THAT(addresses, UnorderedElementsAreArray(Seeds()));
  EXPECT_EQ(masters, 1);

  // The CLI's `frontends --json`: the same, one object per line.
  std::ostringstream out;
  Command command;
  command.kind = CommandKind::kFrontends;
  ASSERT_TRUE(RunCommand(command, /*json=*/true, client.get(), &out).ok());
  std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  int master_lines = 0;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr("\"cache_mode\":\"push\""));
    EXPECT_THAT(line, HasSubstr("\"alive\":true"));
    if (line.find("\"master\":true") != std::string::npos) {
      ++master_lines;
      EXPECT_THAT(line,
                  HasSubstr(absl::StrCat("\"pid\":", frontends_.pid(frontends_.HighestPid()))));
    }
  }
  EXPECT_EQ(master_lines, 1);
}

TEST_F(ClientFailoverTest, MedalsCommandPrintsTheRankedTableAFrontendServes) {
  BackendWriter writer(backend_.NewStub());
  writer.AwardMedal("Romans", v1::GOLD);
  writer.AwardMedal("Gauls", v1::GOLD);
  const int64_t last = writer.AwardMedal("Gauls", v1::BRONZE).seq();
  ASSERT_GT(last, 0);
  std::unique_ptr<ScoreboardClient> client = Connect();
  ASSERT_NE(client, nullptr);
  // The frontend's cache has the last award once its standings are as of
  // that seq (pushed, or read through on a miss).
  absl::StatusOr<v1::Standings> standings;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    standings = client->GetStandings();
    ASSERT_TRUE(standings.ok()) << standings.status();
    if (standings->seq() >= last) break;
    absl::SleepFor(absl::Milliseconds(10));
  } while (absl::Now() < deadline);
  ASSERT_GE(standings->seq(), last);

  Command command;
  command.kind = CommandKind::kGetMedals;  // `medals`
  std::ostringstream text;
  ASSERT_TRUE(RunCommand(command, /*json=*/false, client.get(), &text).ok());
  EXPECT_EQ(
      text.str(),
      absl::StrCat("rank  team         gold  silver  bronze   total  version\n",
                   absl::StrFormat("   1  Gauls           1       0       1       2  %7d\n", last),
                   absl::StrFormat("   2  Romans          1       0       0       1  %7d\n",
                                   standings->standings(1).tally().version()),
                   "   3  Britons         0       0       0       0        0\n",
                   "   3  Egyptians       0       0       0       0        0\n"));
  std::ostringstream json;
  ASSERT_TRUE(RunCommand(command, /*json=*/true, client.get(), &json).ok());
  std::vector<std::string> lines = absl::StrSplit(json.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], absl::StrCat(R"({"rank":1,"team":"Gauls","gold":1,"silver":0,)",
                                   R"("bronze":1,"total":2,"version":)", last, "}"));
  EXPECT_THAT(lines[3], StartsWith(R"({"rank":3,"team":"Egyptians",)"));
}

TEST_F(ClientFailoverTest, HistoryCommandPrintsEveryChangeOfAKeyThroughAFrontendOrTheBackend) {
  BackendWriter writer(backend_.NewStub());
  const int64_t award = writer.AwardMedal("Gauls", v1::GOLD).seq();
  ASSERT_GT(writer.RecordScore("javelin", "Gauls", 3).seq(), 0);
  const int64_t revoke =
      writer.AwardMedal("Gauls", v1::GOLD, /*revoke=*/true, "disqualified: lead menhir").seq();
  ASSERT_GT(award, 0);
  ASSERT_GT(revoke, award);

  std::unique_ptr<ScoreboardClient> through_frontends = Connect();
  ASSERT_NE(through_frontends, nullptr);
  absl::StatusOr<std::unique_ptr<ScoreboardClient>> through_backend =
      ScoreboardClient::ConnectToBackend(backend_.address());
  ASSERT_TRUE(through_backend.ok()) << through_backend.status();
  Command command(CommandKind::kHistory, "Gauls");
  for (ScoreboardClient* client : {through_frontends.get(), through_backend->get()}) {
    std::ostringstream text;
    ASSERT_EQ(RunCommand(command, /*json=*/false, client, &text), absl::OkStatus());
    std::vector<std::string> lines = absl::StrSplit(text.str(), '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 4u) << text.str();
    EXPECT_THAT(lines[0], StartsWith("history of team:Gauls, change log at seq "));
    EXPECT_THAT(lines[1], StartsWith("seq  time (UTC)"));
    // Rows start with the seq, right-aligned, then the time (UTC).
    EXPECT_THAT(lines[2], HasSubstr(absl::StrCat(" ", award, "  20")));
    EXPECT_THAT(lines[2], HasSubstr("gold 1  silver 0  bronze 0  +1 gold"));
    EXPECT_THAT(lines[3], HasSubstr(absl::StrCat(" ", revoke, "  20")));
    EXPECT_THAT(lines[3], HasSubstr("gold 0  silver 0  bronze 0  -1 gold  "
                                    "disqualified: lead menhir"));

    std::ostringstream json;
    ASSERT_EQ(RunCommand(command, /*json=*/true, client, &json), absl::OkStatus());
    lines = absl::StrSplit(json.str(), '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 3u) << json.str();
    EXPECT_THAT(lines[0], StartsWith(R"({"key":"team:Gauls","head_seq":)"));
    EXPECT_THAT(lines[2], HasSubstr(absl::StrCat(R"("seq":)", revoke,
                                                 R"(,"reason":"disqualified: lead menhir"})")));

    std::ostringstream unknown;
    absl::Status status =
        RunCommand(Command(CommandKind::kHistory, "Vikings"), false, client, &unknown);
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
    EXPECT_THAT(status.message(), HasSubstr("'Vikings' is neither an event nor a team"));
    EXPECT_EQ(unknown.str(), "");
  }
}

TEST_F(ClientFailoverTest, NewClientsGoToTheLeastLoadedFrontend) {
  // Each client reads once (so its frontend counts it) before the next one
  // is placed; three clients must end up on three different frontends,
  // whatever the tie-breaks chose.
  std::vector<std::unique_ptr<ScoreboardClient>> clients;
  std::vector<std::string> homes;
  for (int n = 0; n < 3; ++n) {
    clients.push_back(Connect(/*placement_seed=*/100 + n));
    ASSERT_NE(clients.back(), nullptr);
    ASSERT_TRUE(clients.back()->GetBoard().ok());
    homes.push_back(clients.back()->home());
    ASSERT_TRUE(WaitForTotalClients(n + 1)) << "the read was not counted";
  }
  EXPECT_THAT(homes, UnorderedElementsAreArray(Seeds()));
}

TEST_F(ClientFailoverTest, ReadsFailOverWhenTheirFrontendIsKilledAndReturnHome) {
  const int64_t version = Write("javelin", 42);
  std::unique_ptr<ScoreboardClient> client = Connect();
  ASSERT_NE(client, nullptr);
  const std::string home = client->home();
  ASSERT_EQ(client->address(), home);
  ASSERT_TRUE(client->GetScore("javelin").ok());

  frontends_.Kill(IndexOf(home), SIGKILL);
  // The very next read succeeds, from another frontend.
  absl::StatusOr<v1::EventScore> score = client->GetScore("javelin");
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_EQ(score->version(), version);
  EXPECT_EQ(score->points(0).points(), 42);
  EXPECT_NE(client->address(), home);

  // Errors that another frontend would repeat are not failed over.
  const std::string away = client->address();
  EXPECT_EQ(client->GetScore("discus").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client->address(), away);

  ASSERT_EQ(frontends_.Start(IndexOf(home)), absl::OkStatus());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (client->address() != home && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(client->address(), home) << "never returned home";
  score = client->GetScore("javelin");
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_EQ(score->version(), version);
}

TEST_F(ClientFailoverTest, EveryFrontendDownIsUnavailableNamingThem) {
  std::unique_ptr<ScoreboardClient> client = Connect();
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < frontends_.size(); ++i) frontends_.Kill(i, SIGKILL);
  absl::StatusOr<v1::Board> board = client->GetBoard();
  EXPECT_EQ(board.status().code(), absl::StatusCode::kUnavailable) << board.status();
  EXPECT_THAT(std::string(board.status().message()), HasSubstr(client->home()));

  absl::StatusOr<std::unique_ptr<ScoreboardClient>> late =
      ScoreboardClient::ConnectToFrontends(Seeds());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(late.status().message()), HasSubstr(frontends_.address(2)));
}

// Frontends that start after a client was placed, as when an operator
// brings the tier up one at a time: the client learns of them while at
// home, and fails over to them when the only frontend it was given dies.
TEST(LateFrontendsTest, AClientPlacedOnALoneFrontendLearnsOfLaterOnesAndFailsOverToThem) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  harness::FrontendCluster frontends(dir.path(), backend.address(), 3, "push");
  ASSERT_TRUE(frontends.Start(0).ok()) << frontends.log(0);
  ASSERT_TRUE(frontends.WaitForMaster(frontends.address(0), absl::Seconds(15)).ok())
      << frontends.log(0);
  ScoreboardClientOptions options;
  options.membership_refresh_interval = absl::Milliseconds(200);
  absl::StatusOr<std::shared_ptr<FrontendPicker>> picker =
      FrontendPicker::Create({frontends.address(0)}, options);
  ASSERT_TRUE(picker.ok()) << picker.status();
  // Peers never heard from are not listed: their peer addresses serve no
  // client.
  EXPECT_THAT((*picker)->known(), ElementsAre(frontends.address(0)));

  ASSERT_TRUE(frontends.Start(1).ok()) << frontends.log(1);
  ASSERT_TRUE(frontends.Start(2).ok()) << frontends.log(2);
  ASSERT_TRUE(
      frontends.WaitForMaster(frontends.address(frontends.HighestPid()), absl::Seconds(15)).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((*picker)->known().size() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT((*picker)->known(), UnorderedElementsAre(frontends.address(0), frontends.address(1),
                                                       frontends.address(2)));

  frontends.Kill(0, SIGKILL);
  absl::StatusOr<std::string> to =
      (*picker)->FailOver(frontends.address(0), absl::UnavailableError("killed by the test"));
  ASSERT_TRUE(to.ok()) << to.status();
  EXPECT_THAT(*to, AnyOf(Eq(frontends.address(1)), Eq(frontends.address(2))));
}

}  // namespace
}  // namespace podium::test
