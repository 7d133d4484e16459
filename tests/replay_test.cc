// Replay files: parsing (everything before anything is written), the
// deterministic idempotency keys, and running them in order through a
// ScoreWriter that stands in for the backend.
#include "bard/replay.h"

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::HasSubstr;

constexpr char kGood[] =
    "# menhir-put, the final\n"
    "\n"
    "score menhir-put status=live\n"
    "score menhir-put Gauls=3 Romans=1   # Obelix again\n"
    "\tscore menhir-put Gauls=5 status=final\n"
    "award Gauls gold event=menhir-put\n"
    "award Romans silver\n";

// The keys of kGood's five writes, parsed as "final.replay": each score
// line's key covers the score lines of its event before it.
std::vector<std::string> GoodKeys() {
  const std::string name = "final.replay";
  const std::string live = ReplayKey(name, "\nscore menhir-put status=live", 1);
  const std::string points = ReplayKey(name, live + "\nscore menhir-put Gauls=3 Romans=1", 1);
  const std::string final_score =
      ReplayKey(name, points + "\nscore menhir-put Gauls=5 status=final", 1);
  return {live, points, final_score, ReplayKey(name, "award Gauls gold event=menhir-put", 1),
          ReplayKey(name, "award Romans silver", 1)};
}

std::string KeyOf(const ReplayWrite& write) {
  return std::visit([](const auto& r) { return r.idempotency_key(); },
                    write.request);
}

std::vector<std::string> KeysOf(const Replay& replay) {
  std::vector<std::string> keys;
  for (const ReplayWrite& write : replay.writes) keys.push_back(KeyOf(write));
  return keys;
}

// Records what it is asked to write; fails the write whose key is `fail_key`.
class FakeWriter : public ScoreWriter {
 public:
  absl::StatusOr<v1::WriteReply> RecordScore(
      v1::RecordScoreRequest request) override {
    keys.push_back(request.idempotency_key());
    if (request.idempotency_key() == fail_key) return failure;
    scores.push_back(request);
    return Reply();
  }
  absl::StatusOr<v1::WriteReply> AwardMedal(
      v1::AwardMedalRequest request) override {
    keys.push_back(request.idempotency_key());
    if (request.idempotency_key() == fail_key) return failure;
    awards.push_back(request);
    return Reply();
  }

  std::vector<std::string> keys;  // every attempt, in order
  std::vector<v1::RecordScoreRequest> scores;
  std::vector<v1::AwardMedalRequest> awards;
  std::string fail_key;
  absl::Status failure = absl::NotFoundError("unknown team 'Goths'");

 private:
  v1::WriteReply Reply() {
    v1::WriteReply reply;
    reply.mutable_change()->set_seq(static_cast<int64_t>(keys.size()));
    return reply;
  }
};

TEST(ReplayTest, GoodFileParsesToRequestsWithLineKeys) {
  absl::StatusOr<Replay> replay = ParseReplay(kGood, "final.replay");
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_EQ(replay->writes.size(), 5u);

  const std::vector<int> lines = {3, 4, 5, 6, 7};
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(replay->writes[i].line, lines[i]);
  }
  const auto& live =
      std::get<v1::RecordScoreRequest>(replay->writes[0].request);
  EXPECT_EQ(live.event(), "menhir-put");
  EXPECT_EQ(live.status(), v1::LIVE);
  EXPECT_TRUE(live.points().empty());
  EXPECT_EQ(live.idempotency_key(), GoodKeys()[0]);

  const auto& points =
      std::get<v1::RecordScoreRequest>(replay->writes[1].request);
  ASSERT_EQ(points.points_size(), 2);
  EXPECT_EQ(points.points(0).team(), "Gauls");
  EXPECT_EQ(points.points(0).points(), 3);
  EXPECT_EQ(points.points(1).team(), "Romans");
  EXPECT_EQ(points.points(1).points(), 1);
  EXPECT_EQ(points.status(), v1::EVENT_STATUS_UNSPECIFIED);

  const auto& final_score =
      std::get<v1::RecordScoreRequest>(replay->writes[2].request);
  EXPECT_EQ(final_score.status(), v1::FINAL);
  EXPECT_EQ(final_score.points(0).points(), 5);

  const auto& gold = std::get<v1::AwardMedalRequest>(replay->writes[3].request);
  EXPECT_EQ(gold.team(), "Gauls");
  EXPECT_EQ(gold.medal(), v1::GOLD);
  EXPECT_EQ(gold.event(), "menhir-put");
  EXPECT_EQ(gold.idempotency_key(), GoodKeys()[3]);

  const auto& silver =
      std::get<v1::AwardMedalRequest>(replay->writes[4].request);
  EXPECT_EQ(silver.medal(), v1::SILVER);
  EXPECT_EQ(silver.event(), "");
}

TEST(ReplayTest, KeysAreStableAndDependOnTheLineAndTheReplayName) {
  const std::string key = ReplayKey("final.replay", "award Romans silver", 4);
  EXPECT_THAT(key, ::testing::MatchesRegex("replay-[0-9a-f]{16}-4"));
  EXPECT_LE(key.size(), 128u);
  // The same bytes give the same keys, parse after parse; another replay
  // name (by default the file's path) gives other keys, unless it is named.
  absl::StatusOr<Replay> first = ParseReplay(kGood, "final.replay");
  absl::StatusOr<Replay> again = ParseReplay(std::string(kGood), "final.replay");
  absl::StatusOr<Replay> elsewhere = ParseReplay(kGood, "/tmp/day2/final.replay");
  absl::StatusOr<Replay> named =
      ParseReplay(kGood, "/tmp/day2/final.replay", "final.replay");
  ASSERT_TRUE(first.ok() && again.ok() && elsewhere.ok() && named.ok());
  EXPECT_EQ(KeysOf(*first), GoodKeys());
  EXPECT_EQ(KeysOf(*again), GoodKeys());
  EXPECT_EQ(KeysOf(*named), GoodKeys());
  for (const std::string& other : KeysOf(*elsewhere)) {
    EXPECT_THAT(GoodKeys(), ::testing::Not(::testing::Contains(other)));
  }
  EXPECT_NE(ReplayKey("r", "award Gauls gold", 1),
            ReplayKey("r", "award Gauls silver", 1));
}

TEST(ReplayTest, SpacingCommentsAndAnotherEventLeaveEveryKey) {
  const std::string edited =
      "\xEF\xBB\xBF# menhir-put, the final (checked)\n"
      "score   boar-hunt Gauls=1\n"
      "score   menhir-put status=live   # now live\r\n"
      "score menhir-put Gauls=3 Romans=1\n"
      "\tscore menhir-put Gauls=5 status=final\n"
      "award Gauls gold event=menhir-put\n"
      "award Romans silver\n";
  absl::StatusOr<Replay> replay = ParseReplay(edited, "final.replay");
  ASSERT_TRUE(replay.ok()) << replay.status();
  std::vector<std::string> keys = KeysOf(*replay);
  ASSERT_EQ(keys.size(), 6u);
  EXPECT_THAT(GoodKeys(), ::testing::Not(::testing::Contains(keys[0])));  // new
  keys.erase(keys.begin());
  EXPECT_EQ(keys, GoodKeys());
}

TEST(ReplayTest, FixingAScoreLineReappliesItsEventFromThereOnly) {
  // Skipping the unchanged later score lines would leave the event at the
  // fixed line's values, not at the file's last ones.
  std::string fixed = kGood;
  const std::string from = "Gauls=3 Romans=1";
  fixed.replace(fixed.find(from), from.size(), "Gauls=3 Romans=2");
  absl::StatusOr<Replay> replay = ParseReplay(fixed, "final.replay");
  ASSERT_TRUE(replay.ok()) << replay.status();
  const std::vector<std::string> keys = KeysOf(*replay);
  const std::vector<std::string> good = GoodKeys();
  ASSERT_EQ(keys.size(), 5u);
  EXPECT_EQ(keys[0], good[0]);  // before the fix
  EXPECT_NE(keys[1], good[1]);  // the fix
  EXPECT_NE(keys[2], good[2]);  // after it, same event: written again
  EXPECT_EQ(keys[3], good[3]);  // awards: once, whatever else changed
  EXPECT_EQ(keys[4], good[4]);
}

TEST(ReplayTest, RevokeAndCorrectionLinesCarryTheirReasonOutsideTheKey) {
  absl::StatusOr<Replay> replay = ParseReplay(
      "award Gauls gold event=menhir-put\n"
      "revoke Gauls gold event=menhir-put reason=disqualified:   a menhir of lead\n"
      "score menhir-put Gauls=3 reason=photo review\n",
      "r");
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_EQ(replay->writes.size(), 3u);
  const auto& revoke = std::get<v1::AwardMedalRequest>(replay->writes[1].request);
  EXPECT_TRUE(revoke.revoke());
  EXPECT_EQ(revoke.medal(), v1::GOLD);
  EXPECT_EQ(revoke.event(), "menhir-put");
  EXPECT_EQ(revoke.reason(), "disqualified: a menhir of lead");
  const auto& correction = std::get<v1::RecordScoreRequest>(replay->writes[2].request);
  EXPECT_EQ(correction.reason(), "photo review");
  EXPECT_EQ(correction.points(0).points(), 3);

  // Rewording a reason keeps the line's key, so it is not applied again.
  absl::StatusOr<Replay> reworded = ParseReplay(
      "award Gauls gold event=menhir-put\n"
      "revoke Gauls gold event=menhir-put reason=disqualified\n"
      "score menhir-put Gauls=3 reason=photo-finish review\n",
      "r");
  ASSERT_TRUE(reworded.ok()) << reworded.status();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(KeyOf(reworded->writes[i]), KeyOf(replay->writes[i])) << "line " << i + 1;
  }

  absl::StatusOr<Replay> bare = ParseReplay("revoke Gauls gold\n", "r");
  EXPECT_EQ(bare.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bare.status().message(), HasSubstr("r:1: a revocation needs a reason"));
  EXPECT_THAT(ParseReplay("score menhir-put reason=x Gauls=1\n", "r").status().message(),
              HasSubstr("nothing to record"));
}

TEST(ReplayTest, ARepeatedLineIsAWriteOfItsOwn) {
  absl::StatusOr<Replay> replay = ParseReplay(
      "award Gauls bronze\naward Romans gold\naward Gauls bronze\n", "r");
  ASSERT_TRUE(replay.ok());
  EXPECT_THAT(KeysOf(*replay),
              ::testing::ElementsAre(ReplayKey("r", "award Gauls bronze", 1),
                                     ReplayKey("r", "award Romans gold", 1),
                                     ReplayKey("r", "award Gauls bronze", 2)));
}

TEST(ReplayTest, PointsAboveTheBackendsLimitAreRefusedBeforeWriting) {
  absl::StatusOr<Replay> replay = ParseReplay(
      "award Gauls gold event=menhir-put\n"
      "score menhir-put Gauls=30000000000\n",
      "t.replay");
  EXPECT_EQ(replay.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(replay.status().message(),
              HasSubstr("t.replay:2: points for 'Gauls' are 30000000000; "
                        "they must be 0 to 1000000000"));
  EXPECT_TRUE(ParseReplay("score menhir-put Gauls=1000000000\n", "t").ok());
}

TEST(ReplayTest, CommentsAndBlankLinesOnlyGiveNoWrites) {
  absl::StatusOr<Replay> replay = ParseReplay("# nothing\n\n   \n", "empty");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->writes.empty());
}

TEST(ReplayTest, EachMalformedLineIsInvalidArgumentNamingTheLine) {
  struct Case {
    std::string line;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"score", "nothing to record"},
      {"award", "expected TEAM gold|silver|bronze"},
      {"award Gauls", "expected TEAM gold|silver|bronze"},
      {"score menhir-put", "nothing to record for 'menhir-put'"},
      {"score menhir-put Gauls=three", "expected a non-negative integer"},
      {"score menhir-put Gauls=-3", "expected a non-negative integer"},
      {"score menhir-put Gauls=2.5", "expected a non-negative integer"},
      {"score menhir-put Gauls=", "expected a non-negative integer"},
      {"score menhir-put Gauls=99999999999999999999", "must be 0 to"},
      {"score menhir-put Gauls=1000000001", "must be 0 to 1000000000"},
      {"score menhir-put Gauls=1 Gauls=2", "'Gauls' is given twice"},
      {"score menhir-put status=halftime", "unknown status 'halftime'"},
      {"score menhir-put status=live status=final", "status is given twice"},
      {"score menhir-put Gauls", "expected TEAM=POINTS, status=STATUS or reason=TEXT"},
      {"score menhir-put G@uls=1", "has character '@'"},
      {"award Gauls platinum", "unknown medal 'platinum'"},
      {"award Gauls gold menhir-put", "expected event=EVENT"},
      {"award Gauls gold event=menhir-put extra", "unexpected 'extra'"},
      {"award Gauls gold event=", "event name is empty"},
      {"sing Gauls loudly", "expected 'score EVENT"},
  };
  for (const Case& c : cases) {
    const std::string content = absl::StrCat("# header\naward Gauls gold\n",
                                             c.line, "\naward Romans gold\n");
    absl::StatusOr<Replay> replay = ParseReplay(content, "bad.replay");
    ASSERT_FALSE(replay.ok()) << c.line;
    EXPECT_EQ(replay.status().code(), absl::StatusCode::kInvalidArgument)
        << c.line;
    EXPECT_THAT(replay.status().message(), HasSubstr("bad.replay:3: "))
        << c.line;
    EXPECT_THAT(replay.status().message(), HasSubstr(c.message)) << c.line;
  }
}

TEST(ReplayTest, MissingFileIsNotFoundNamingIt) {
  absl::StatusOr<Replay> replay = LoadReplayFile("/nonexistent/x.replay");
  EXPECT_EQ(replay.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(replay.status().message(), HasSubstr("/nonexistent/x.replay"));
}

// A board as the backend gives it: each event lists the teams taking part.
v1::Board BoardOf(const std::vector<std::pair<std::string, std::vector<std::string>>>& events,
                  const std::vector<std::string>& teams) {
  v1::Board board;
  for (const auto& [name, taking_part] : events) {
    v1::EventScore* event = board.add_events();
    event->set_event(name);
    for (const std::string& team : taking_part) event->add_points()->set_team(team);
  }
  for (const std::string& team : teams) board.add_medals()->set_team(team);
  return board;
}

TEST(ReplayTest, NamesUnknownToTheBoardAreNotFoundBeforeWriting) {
  const v1::Board board = BoardOf({{"menhir-put", {"Gauls", "Romans"}}}, {"Gauls", "Romans"});
  absl::StatusOr<Replay> replay = ParseReplay(kGood, "final.replay");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(CheckReplayNames(*replay, board).ok());

  replay = ParseReplay("award Gauls gold\naward Goths gold\n", "r");
  ASSERT_TRUE(replay.ok());
  absl::Status status = CheckReplayNames(*replay, board);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("r:2: unknown team 'Goths'"));

  replay = ParseReplay("score curling Gauls=1\n", "r");
  ASSERT_TRUE(replay.ok());
  EXPECT_THAT(CheckReplayNames(*replay, board).message(),
              HasSubstr("r:1: unknown event 'curling'"));
  replay = ParseReplay("award Gauls gold event=curling\n", "r");
  ASSERT_TRUE(replay.ok());
  EXPECT_THAT(CheckReplayNames(*replay, board).message(),
              HasSubstr("r:1: unknown event 'curling'"));
}

TEST(ReplayTest, ATeamNotInItsEventIsAFailedPreconditionBeforeWriting) {
  const v1::Board board =
      BoardOf({{"judo", {"FRA", "JPN"}}, {"relay", {"USA", "FRA", "JPN"}}}, {"USA", "FRA", "JPN"});
  absl::StatusOr<Replay> replay =
      ParseReplay("score judo FRA=1 JPN=0\naward USA gold event=relay\naward USA gold\n", "r");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(CheckReplayNames(*replay, board).ok());

  replay = ParseReplay("score judo FRA=1\nscore judo USA=1\n", "r");
  ASSERT_TRUE(replay.ok());
  absl::Status status = CheckReplayNames(*replay, board);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("r:2: team 'USA' does not take part in event 'judo'"));
  replay = ParseReplay("award USA bronze event=judo\n", "r");
  ASSERT_TRUE(replay.ok());
  status = CheckReplayNames(*replay, board);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("r:1: team 'USA' does not take part in event 'judo'"));

  v1::Board relay = board;
  v1::EventInfo* info = relay.mutable_games()->add_events();
  info->set_event("relay");
  info->set_golds(1);
  info->set_silvers(1);
  replay = ParseReplay("award USA gold event=relay\naward JPN bronze event=relay\n", "r");
  ASSERT_TRUE(replay.ok());
  status = CheckReplayNames(*replay, relay);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("r:2: event 'relay' awards no bronze medal"));
}

TEST(ReplayTest, RunWritesInOrderWithTheFileKeys) {
  absl::StatusOr<Replay> replay = ParseReplay(kGood, "final.replay");
  ASSERT_TRUE(replay.ok());
  FakeWriter writer;
  ReplayProgress progress;
  ASSERT_TRUE(RunReplay(*replay, &writer, nullptr, &progress).ok());
  EXPECT_EQ(writer.keys, GoodKeys());
  EXPECT_EQ(writer.scores.size(), 3u);
  EXPECT_EQ(writer.awards.size(), 2u);
  EXPECT_EQ(progress.applied, 5);
  EXPECT_EQ(progress.duplicates, 0);
}

TEST(ReplayTest, RunStopsAtTheFirstFailureNamingItsLine) {
  absl::StatusOr<Replay> replay = ParseReplay(kGood, "final.replay");
  ASSERT_TRUE(replay.ok());
  FakeWriter writer;
  writer.fail_key = GoodKeys()[2];
  ReplayProgress progress;
  absl::Status status = RunReplay(*replay, &writer, nullptr, &progress);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(),
              HasSubstr("final.replay:5: unknown team 'Goths'"));
  // Lines 3 and 4 written, 5 tried, nothing after it.
  EXPECT_EQ(writer.keys.size(), 3u);
  EXPECT_EQ(writer.scores.size(), 2u);
  EXPECT_TRUE(writer.awards.empty());
  EXPECT_EQ(progress.applied, 2);
}

TEST(ReplayTest, StopEndsTheRunBeforeTheNextLine) {
  absl::StatusOr<Replay> replay = ParseReplay(kGood, "final.replay");
  ASSERT_TRUE(replay.ok());
  FakeWriter writer;
  absl::Notification stop;
  stop.Notify();
  absl::Status status = RunReplay(*replay, &writer, &stop);
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(status.message(), HasSubstr("final.replay:3"));
  EXPECT_TRUE(writer.keys.empty());
}

}  // namespace
}  // namespace podium
