// ScoreboardClient and the podium-client commands against a real backend
// (SQLite store, gRPC service, loopback server) running in-process.
#include "client/scoreboard_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "backend/games.h"
#include "client/commands.h"
#include "client/repeat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/temp_dir.h"
#include "tests/testing/in_process_backend.h"

namespace podium {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

class ScoreboardClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<test::InProcessBackend>> backend =
        test::InProcessBackend::Open(dir_.path(), "tok");
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *std::move(backend);
    absl::StatusOr<std::string> address = backend_->Serve();
    ASSERT_TRUE(address.ok()) << address.status();
    address_ = *address;
    absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
        ScoreboardClient::ConnectToBackend(address_);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  void TearDown() override {
    if (backend_ != nullptr) backend_->Stop(absl::Seconds(1));
    client_.reset();
    backend_.reset();
  }

  int64_t RecordScore(const std::string& key, const std::string& event,
                      std::vector<std::pair<std::string, int64_t>> points, v1::EventStatus status) {
    v1::RecordScoreRequest request;
    request.set_idempotency_key(key);
    request.set_event(event);
    for (const auto& [team, value] : points) {
      v1::TeamPoints* entry = request.add_points();
      entry->set_team(team);
      entry->set_points(value);
    }
    request.set_status(status);
    absl::StatusOr<WriteResult> result = backend_->store()->RecordScore(request);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->change.seq() : -1;
  }

  int64_t AwardMedal(const std::string& key, const std::string& team, v1::Medal medal) {
    v1::AwardMedalRequest request;
    request.set_idempotency_key(key);
    request.set_team(team);
    request.set_medal(medal);
    absl::StatusOr<WriteResult> result = backend_->store()->AwardMedal(request);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->change.seq() : -1;
  }

  harness::ScopedTempDir dir_;
  std::unique_ptr<test::InProcessBackend> backend_;
  std::string address_;
  std::unique_ptr<ScoreboardClient> client_;
};

TEST_F(ScoreboardClientTest, GetScoreReadsWhatWasRecorded) {
  const int64_t seq = RecordScore("s1", "menhir-put", {{"Gauls", 3}, {"Romans", 1}}, v1::LIVE);
  absl::StatusOr<v1::EventScore> score = client_->GetScore("menhir-put");
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_EQ(score->event(), "menhir-put");
  EXPECT_EQ(score->status(), v1::LIVE);
  EXPECT_EQ(score->version(), seq);
  EXPECT_GT(score->updated_unix_micros(), 0);
  std::vector<std::pair<std::string, int64_t>> points;
  for (const v1::TeamPoints& p : score->points()) {
    points.emplace_back(p.team(), p.points());
  }
  EXPECT_THAT(points, ElementsAre(std::make_pair("Gauls", 3), std::make_pair("Romans", 1),
                                  std::make_pair("Britons", 0), std::make_pair("Egyptians", 0)));
}

TEST_F(ScoreboardClientTest, GetMedalsReadsWhatWasAwarded) {
  AwardMedal("m1", "Gauls", v1::GOLD);
  AwardMedal("m2", "Gauls", v1::BRONZE);
  const int64_t seq = AwardMedal("m3", "Gauls", v1::BRONZE);
  absl::StatusOr<v1::MedalTally> tally = client_->GetMedals("Gauls");
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->team(), "Gauls");
  EXPECT_EQ(tally->gold(), 1);
  EXPECT_EQ(tally->silver(), 0);
  EXPECT_EQ(tally->bronze(), 2);
  EXPECT_EQ(tally->version(), seq);
}

TEST_F(ScoreboardClientTest, UnknownNamesAreNotFoundNamingThem) {
  absl::StatusOr<v1::EventScore> score = client_->GetScore("discus");
  EXPECT_EQ(score.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(score.status().message()), HasSubstr("'discus'"));
  EXPECT_THAT(std::string(score.status().message()), StartsWith(address_ + ": "));

  absl::StatusOr<v1::MedalTally> tally = client_->GetMedals("Vikings");
  EXPECT_EQ(tally.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(tally.status().message()), HasSubstr("'Vikings'"));
}

TEST_F(ScoreboardClientTest, GetStandingsRanksEveryTeamAsOfItsSeq) {
  AwardMedal("m1", "Romans", v1::SILVER);
  AwardMedal("m2", "Egyptians", v1::BRONZE);
  const int64_t seq = AwardMedal("m3", "Egyptians", v1::SILVER);
  absl::StatusOr<v1::Standings> standings = client_->GetStandings();
  ASSERT_TRUE(standings.ok()) << standings.status();
  EXPECT_EQ(standings->seq(), seq);
  std::vector<std::pair<int, std::string>> ranked;
  for (const v1::Standing& standing : standings->standings()) {
    ranked.emplace_back(standing.rank(), standing.tally().team());
  }
  // Two silvers and a bronze, one silver, then the two without a medal
  // sharing third place, by name.
  EXPECT_THAT(ranked, ElementsAre(Pair(1, "Egyptians"), Pair(2, "Romans"), Pair(3, "Britons"),
                                  Pair(3, "Gauls")));
  EXPECT_EQ(standings->standings(0).total(), 2);
  EXPECT_EQ(standings->standings(0).tally().version(), seq);
}

TEST_F(ScoreboardClientTest, GetBoardHasEveryEventAndTeamAsOfItsSeq) {
  RecordScore("s1", "boar-hunt", {{"Gauls", 7}}, v1::FINAL);
  const int64_t seq = AwardMedal("m1", "Gauls", v1::GOLD);
  absl::StatusOr<v1::Board> board = client_->GetBoard();
  ASSERT_TRUE(board.ok()) << board.status();
  EXPECT_EQ(board->seq(), seq);
  EXPECT_EQ(board->events_size(), Games::Default().events().size());
  EXPECT_EQ(board->medals_size(), Games::Default().teams().size());
}

// A TCP port that refuses connections: bound, so nobody else takes it, but
// not listening.
class RefusingPort {
 public:
  RefusingPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(addr);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~RefusingPort() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

TEST(ScoreboardClientUnreachableTest, NothingListeningIsUnavailableInTime) {
  RefusingPort refusing;
  ASSERT_NE(refusing.port(), 0);
  const std::string address = absl::StrCat("127.0.0.1:", refusing.port());
  ScoreboardClientOptions options;
  options.timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
      ScoreboardClient::ConnectToBackend(address, options);
  ASSERT_TRUE(client.ok()) << client.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::Board> board = (*client)->GetBoard();
  EXPECT_LE(absl::Now() - start, options.timeout + absl::Milliseconds(500));
  EXPECT_EQ(board.status().code(), absl::StatusCode::kUnavailable) << board.status();
  EXPECT_THAT(std::string(board.status().message()), StartsWith(address + ": "));
}

TEST(ScoreboardClientOptionsTest, RejectsUnusableArguments) {
  EXPECT_EQ(ScoreboardClient::ConnectToBackend("").status().code(),
            absl::StatusCode::kInvalidArgument);
  ScoreboardClientOptions options;
  options.timeout = absl::ZeroDuration();
  EXPECT_EQ(ScoreboardClient::ConnectToBackend("127.0.0.1:7100", options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = ScoreboardClientOptions();
  options.delivery_threads = 0;
  const absl::Status no_threads =
      ScoreboardClient::ConnectToBackend("127.0.0.1:7100", options).status();
  EXPECT_EQ(no_threads.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(no_threads.message(), "delivery threads must be 1 to 64, not 0");
}

TEST_F(ScoreboardClientTest, ReadsRecoverSoonAfterTheBackendRestarts) {
  ASSERT_TRUE(client_->GetBoard().ok());
  backend_->Stop(absl::Seconds(1));
  EXPECT_EQ(client_->GetBoard().status().code(), absl::StatusCode::kUnavailable);
  // Down long enough for several failed reconnection attempts.
  absl::SleepFor(absl::Milliseconds(1500));
  ASSERT_TRUE(backend_->Serve(backend_->port()).ok());
  // In-process the server's threads poll the client's connection too, so
  // this checks recovery, not the connection watcher: that needs a backend
  // in another process.
  const absl::Time deadline = absl::Now() + absl::Seconds(3);
  absl::Status last;
  do {
    last = client_->GetBoard().status();
    if (last.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  EXPECT_TRUE(last.ok()) << last;
}

TEST_F(ScoreboardClientTest, HealthOfARunningBackend) { EXPECT_TRUE(client_->CheckHealth().ok()); }

// --- the podium-client commands ---

absl::StatusOr<Command> Parse(std::vector<std::string> args) { return ParseCommand(args); }

TEST(CommandsTest, ParsesEveryCommand) {
  absl::StatusOr<Command> command = Parse({"get-score", "menhir-put"});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->kind, CommandKind::kGetScore);
  EXPECT_EQ(command->name, "menhir-put");

  command = Parse({"get-medals"});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->kind, CommandKind::kGetMedals);
  EXPECT_EQ(command->name, "");

  command = Parse({"get-medals", "Gauls"});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->name, "Gauls");

  EXPECT_EQ(Parse({"board"})->kind, CommandKind::kBoard);
  EXPECT_EQ(Parse({"health"})->kind, CommandKind::kHealth);
}

TEST(CommandsTest, RejectsBadCommandLines) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"get-score"},
                                             {"get-score", "a", "b"},
                                             {"get-medals", "a", "b"},
                                             {"board", "x"},
                                             {"health", "x"},
                                             {"scores"}}) {
    absl::StatusOr<Command> command = Parse(args);
    EXPECT_EQ(command.status().code(), absl::StatusCode::kInvalidArgument)
        << absl::StrJoin(args, " ");
  }
  EXPECT_THAT(std::string(Parse({"scores"}).status().message()), HasSubstr("'scores'"));
}

TEST_F(ScoreboardClientTest, BoardCommandPrintsOneJsonLinePerKey) {
  RecordScore("s1", "javelin", {{"Britons", 2}}, v1::LIVE);
  std::ostringstream out;
  ASSERT_TRUE(RunCommand({CommandKind::kBoard, ""}, /*json=*/true, client_.get(), &out).ok());
  std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  const Games games = Games::Default();
  ASSERT_EQ(lines.size(), 1 + games.events().size() + games.teams().size());
  // The seq the text form's first line shows, then every value.
  absl::StatusOr<v1::Board> board = client_->GetBoard();
  ASSERT_TRUE(board.ok());
  EXPECT_EQ(lines[0], absl::StrCat(R"({"board_seq":)", board->seq(), "}"));
  EXPECT_THAT(lines[1], StartsWith(R"({"event":")"));
  // The medal table, ranked.
  EXPECT_THAT(lines.back(), StartsWith(R"({"rank":)"));
  EXPECT_THAT(out.str(), HasSubstr(R"({"event":"javelin","status":"live")"));
}

TEST_F(ScoreboardClientTest, GetScoreCommandPrintsTextOrNothing) {
  RecordScore("s1", "menhir-put", {{"Gauls", 3}, {"Romans", 1}}, v1::LIVE);
  std::ostringstream out;
  ASSERT_TRUE(RunCommand({CommandKind::kGetScore, "menhir-put"}, false, client_.get(), &out).ok());
  EXPECT_THAT(out.str(), StartsWith("menhir-put  live  Gauls 3 : Romans 1"));

  std::ostringstream failed;
  EXPECT_EQ(RunCommand({CommandKind::kGetScore, "discus"}, false, client_.get(), &failed).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(failed.str(), "");
}

TEST_F(ScoreboardClientTest, HealthCommandPrintsServing) {
  std::ostringstream out;
  ASSERT_TRUE(RunCommand({CommandKind::kHealth, ""}, false, client_.get(), &out).ok());
  EXPECT_EQ(out.str(), "SERVING\n");
}

// --- repetition ---

TEST(RepeatTest, OnceUnlessAskedOtherwise) {
  EXPECT_FALSE(IsRepeated({}));
  EXPECT_FALSE(IsRepeated({absl::Seconds(1), 1}));
  EXPECT_TRUE(IsRepeated({absl::Seconds(1), 0}));
  EXPECT_TRUE(IsRepeated({absl::ZeroDuration(), 3}));
  EXPECT_FALSE(ValidateRepeatOptions({-absl::Seconds(1), 0}).ok());
  EXPECT_FALSE(ValidateRepeatOptions({absl::ZeroDuration(), -1}).ok());

  int runs = 0;
  absl::Status status = Repeat(
      {}, nullptr,
      [&] {
        ++runs;
        return absl::UnavailableError("down");
      },
      [](const absl::Status&) { ADD_FAILURE() << "single runs return"; });
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

TEST(RepeatTest, ReportsFailuresAndCarriesOnForCountRuns) {
  int runs = 0;
  int errors = 0;
  absl::Status status = Repeat(
      {absl::Milliseconds(1), 4}, nullptr,
      [&] {
        ++runs;
        return runs == 2 ? absl::UnavailableError("restarting") : absl::OkStatus();
      },
      [&](const absl::Status&) { ++errors; });
  EXPECT_EQ(runs, 4);
  EXPECT_EQ(errors, 1);
  EXPECT_TRUE(status.ok()) << status;
}

TEST(RepeatTest, StopEndsTheWaitAtOnce) {
  absl::Notification stop;
  int runs = 0;
  std::thread stopper([&stop] {
    absl::SleepFor(absl::Milliseconds(100));
    stop.Notify();
  });
  const absl::Time start = absl::Now();
  absl::Status status = Repeat(
      {absl::Seconds(60), 0}, &stop,
      [&] {
        ++runs;
        return absl::OkStatus();
      },
      [](const absl::Status&) {});
  stopper.join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(runs, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace podium
