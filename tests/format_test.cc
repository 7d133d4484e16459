// The printed forms of scores and tallies: the JSON is a public interface
// (scripts parse it), so it is checked byte for byte.
#include "client/format.h"

#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/standings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::HasSubstr;

v1::EventScore MenhirPut() {
  v1::EventScore score;
  score.set_event("menhir-put");
  score.set_status(v1::LIVE);
  v1::TeamPoints* gauls = score.add_points();
  gauls->set_team("Gauls");
  gauls->set_points(3);
  v1::TeamPoints* romans = score.add_points();
  romans->set_team("Romans");
  romans->set_points(1);
  score.set_version(17);
  score.set_updated_unix_micros(1700000000123456);
  return score;
}

v1::MedalTally Tally(const std::string& team, int64_t gold, int64_t silver, int64_t bronze,
                     int64_t version) {
  v1::MedalTally tally;
  tally.set_team(team);
  tally.set_gold(gold);
  tally.set_silver(silver);
  tally.set_bronze(bronze);
  tally.set_version(version);
  return tally;
}

TEST(FormatTest, EventScoreJsonIsExact) {
  EXPECT_EQ(EventScoreJson(MenhirPut()), R"({"event":"menhir-put","status":"live",)"
                                         R"("points":{"Gauls":3,"Romans":1},"version":17,)"
                                         R"("updated_unix_micros":1700000000123456})");
}

TEST(FormatTest, EventScoreJsonOfEmptyScore) {
  EXPECT_EQ(EventScoreJson(v1::EventScore()),
            R"({"event":"","status":"unspecified","points":{},"version":0,)"
            R"("updated_unix_micros":0})");
}

TEST(FormatTest, MedalTallyJsonIsExact) {
  EXPECT_EQ(MedalTallyJson(Tally("Gauls", 1, 0, 2, 9)),
            R"({"team":"Gauls","gold":1,"silver":0,"bronze":2,"version":9})");
}

TEST(FormatTest, JsonEscapesNames) {
  v1::EventScore score = MenhirPut();
  score.set_event("say \"ave\"\\");
  score.mutable_points(0)->set_team("tab\there");
  EXPECT_THAT(EventScoreJson(score), HasSubstr(R"({"event":"say \"ave\"\\","status")"));
  EXPECT_THAT(EventScoreJson(score), HasSubstr(R"({"tab\u0009here":3,)"));
  EXPECT_THAT(MedalTallyJson(Tally("a\"b", 0, 0, 0, 0)), HasSubstr(R"("team":"a\"b")"));
}

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote(""), R"("")");
  EXPECT_EQ(JsonQuote("Gauls"), R"("Gauls")");
  EXPECT_EQ(JsonQuote("a\"b"), R"("a\"b")");
  EXPECT_EQ(JsonQuote("a\\b"), R"("a\\b")");
  EXPECT_EQ(JsonQuote("line\nnext\r\t"), R"("line\u000anext\u000d\u0009")");
  EXPECT_EQ(JsonQuote(std::string("nul\0x", 5)), R"("nul\u0000x")");
  EXPECT_EQ(JsonQuote("\x1f\x7f"), "\"\\u001f\x7f\"");
}

TEST(JsonQuoteTest, KeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonQuote("Ast\xC3\xA9rix \xE2\x82\xAC \xF0\x9F\x8F\x85"),
            "\"Ast\xC3\xA9rix \xE2\x82\xAC \xF0\x9F\x8F\x85\"");
  const std::string replacement = "\xEF\xBF\xBD";
  // A lone continuation byte, a truncated sequence, an overlong '/', a
  // surrogate, and a byte that never occurs in UTF-8.
  EXPECT_EQ(JsonQuote("a\x80z"), "\"a" + replacement + "z\"");
  EXPECT_EQ(JsonQuote("a\xE2\x82"), "\"a" + replacement + replacement + "\"");
  EXPECT_EQ(JsonQuote("\xC0\xAF"), "\"" + replacement + replacement + "\"");
  EXPECT_EQ(JsonQuote("\xED\xA0\x80"), "\"" + replacement + replacement + replacement + "\"");
  EXPECT_EQ(JsonQuote("\xFF"), "\"" + replacement + "\"");
}

TEST(FormatTest, EventScoreText) {
  EXPECT_EQ(EventScoreText(MenhirPut()), "menhir-put  live  Gauls 3 : Romans 1  (v17)");
}

TEST(FormatTest, MedalTallyText) {
  EXPECT_EQ(MedalTallyText(Tally("Gauls", 1, 0, 2, 9)), "Gauls  gold 1  silver 0  bronze 2  (v9)");
}

TEST(FormatTest, AValueAFrontendCouldNotVerifySaysSo) {
  v1::EventScore score = MenhirPut();
  score.set_unverified(true);
  EXPECT_EQ(EventScoreText(score), "menhir-put  live  Gauls 3 : Romans 1  (v17, unverified)");
  EXPECT_THAT(EventScoreJson(score), ::testing::EndsWith(",\"unverified\":true}"));
  v1::MedalTally tally = Tally("Gauls", 1, 0, 2, 9);
  tally.set_unverified(true);
  EXPECT_EQ(MedalTallyText(tally), "Gauls  gold 1  silver 0  bronze 2  (v9, unverified)");
  EXPECT_EQ(MedalTallyJson(tally),
            "{\"team\":\"Gauls\",\"gold\":1,\"silver\":0,\"bronze\":2,\"version\":9,"
            "\"unverified\":true}");
}

TEST(FormatTest, EventTableAlignsColumns) {
  v1::EventScore wrestling = MenhirPut();
  wrestling.set_event("wrestling-final");
  wrestling.set_status(v1::SCHEDULED);
  wrestling.set_version(0);
  const std::string table = EventTableText({MenhirPut(), wrestling});
  EXPECT_EQ(table,
            "menhir-put       live        Gauls 3 : Romans 1  (v17)\n"
            "wrestling-final  start_list  Gauls 3 : Romans 1  (v0)\n");
}

TEST(FormatTest, StandingsTableHasHeaderAndOneRankedRowPerTeam) {
  google::protobuf::RepeatedPtrField<v1::MedalTally> tallies;
  *tallies.Add() = Tally("Gauls", 1, 0, 2, 9);
  *tallies.Add() = Tally("Egyptians", 12, 345, 6, 1234);
  EXPECT_EQ(StandingsText(RankStandings(tallies)),
            "rank  team         gold  silver  bronze   total  version\n"
            "   1  Egyptians      12     345       6     363     1234\n"
            "   2  Gauls           1       0       2       3        9\n");
}

TEST(FormatTest, StandingJsonIsTheTallyWithRankAndTotal) {
  v1::Standing standing;
  standing.set_rank(2);
  *standing.mutable_tally() = Tally("Gauls", 1, 0, 2, 9);
  standing.set_total(3);
  EXPECT_EQ(StandingJson(standing),
            R"({"rank":2,"team":"Gauls","gold":1,"silver":0,"bronze":2,"total":3,"version":9})");
}

TEST(FormatTest, BoardTextHasSeqEventsThenMedals) {
  v1::Board board;
  *board.add_events() = MenhirPut();
  *board.add_medals() = Tally("Romans", 0, 4, 0, 21);
  board.set_seq(42);
  const std::string text = BoardText(board);
  EXPECT_THAT(text, HasSubstr("42"));
  const size_t event = text.find("menhir-put  live  Gauls 3 : Romans 1  (v17)");
  const size_t medals = text.find("   1  Romans       0       4       0       4       21");
  ASSERT_NE(event, std::string::npos) << text;
  ASSERT_NE(medals, std::string::npos) << text;
  EXPECT_LT(event, medals);
}

v1::FrontendInfo Frontend(const std::string& address, int64_t pid, bool master, v1::CacheMode mode,
                          int64_t clients, bool alive) {
  v1::FrontendInfo info;
  info.set_address(address);
  info.set_pid(pid);
  info.set_master(master);
  info.set_cache_mode(mode);
  info.set_clients(clients);
  info.set_alive(alive);
  return info;
}

TEST(FormatTest, SubscribeUpdateJsonIsTheValueWithSnapshotLast) {
  v1::SubscribeUpdate update;
  update.mutable_change()->set_seq(17);
  *update.mutable_change()->mutable_event() = MenhirPut();
  update.set_snapshot(true);
  EXPECT_EQ(SubscribeUpdateJson(update),
            R"({"event":"menhir-put","status":"live","points":{"Gauls":3,"Romans":1},)"
            R"("version":17,"updated_unix_micros":1700000000123456,"snapshot":true})");
  update.set_snapshot(false);
  *update.mutable_change()->mutable_medals() = Tally("Gauls", 1, 0, 2, 9);
  EXPECT_EQ(SubscribeUpdateJson(update),
            R"({"team":"Gauls","gold":1,"silver":0,"bronze":2,"version":9,"snapshot":false})");
}

TEST(FormatTest, SubscribeUpdateTextMarksSnapshots) {
  v1::SubscribeUpdate update;
  *update.mutable_change()->mutable_medals() = Tally("Gauls", 1, 0, 2, 9);
  EXPECT_EQ(SubscribeUpdateText(update), "Gauls  gold 1  silver 0  bronze 2  (v9)");
  update.set_snapshot(true);
  EXPECT_EQ(SubscribeUpdateText(update), "Gauls  gold 1  silver 0  bronze 2  (v9)  [snapshot]");
}

v1::History GaulsHistory() {
  v1::History history;
  history.set_key("team:Gauls");
  history.set_head_seq(40);
  v1::Change* award = history.add_changes();
  award->set_seq(9);
  *award->mutable_medals() = Tally("Gauls", 1, 0, 0, 9);
  award->mutable_medals()->set_updated_unix_micros(1700000000123456);
  v1::Change* revoke = history.add_changes();
  revoke->set_seq(31);
  *revoke->mutable_medals() = Tally("Gauls", 0, 0, 0, 31);
  revoke->mutable_medals()->set_updated_unix_micros(1700000060000000);
  revoke->set_reason("disqualified: a menhir of lead");
  return history;
}

TEST(FormatTest, HistoryTextHasOneAlignedRowPerChangeWithWhatItDidAndWhy) {
  EXPECT_EQ(HistoryText(GaulsHistory()),
            "history of team:Gauls, change log at seq 40\n"
            "seq  time (UTC)                  value                                reason\n"
            "  9  2023-11-14 22:13:20.123456  gold 1  silver 0  bronze 0  +1 gold\n"
            " 31  2023-11-14 22:14:20.000000  gold 0  silver 0  bronze 0  -1 gold  "
            "disqualified: a menhir of lead\n");
}

TEST(FormatTest, HistoryTextSaysWhereTheLogWasCompactedAndTellsNoDeltaAcrossIt) {
  v1::History history = GaulsHistory();
  history.set_compacted_through_seq(5);
  history.mutable_changes()->DeleteSubrange(1, 1);
  const std::string text = HistoryText(history);
  EXPECT_THAT(text, HasSubstr("changes up to seq 5 were compacted"));
  // What came before seq 9 is gone, so what it added cannot be told.
  EXPECT_THAT(text, HasSubstr("gold 1  silver 0  bronze 0\n"));
  history.clear_changes();
  EXPECT_THAT(HistoryText(history), HasSubstr("no retained change of team:Gauls\n"));
}

TEST(FormatTest, HistoryJsonIsAHeaderThenEachValueWithSeqAndReason) {
  v1::History history = GaulsHistory();
  v1::Change* score = history.add_changes();
  score->set_seq(35);
  *score->mutable_event() = MenhirPut();
  EXPECT_EQ(HistoryJson(history),
            R"({"key":"team:Gauls","head_seq":40,"compacted_through_seq":0})"
            "\n"
            R"({"team":"Gauls","gold":1,"silver":0,"bronze":0,"version":9,)"
            R"("updated_unix_micros":1700000000123456,"seq":9,"reason":""})"
            "\n"
            R"({"team":"Gauls","gold":0,"silver":0,"bronze":0,"version":31,)"
            R"("updated_unix_micros":1700000060000000,"seq":31,)"
            R"("reason":"disqualified: a menhir of lead"})"
            "\n"
            R"({"event":"menhir-put","status":"live","points":{"Gauls":3,"Romans":1},)"
            R"("version":17,"updated_unix_micros":1700000000123456,"seq":35,"reason":""})"
            "\n");
}

TEST(FormatTest, FrontendInfoJsonHasEveryField) {
  EXPECT_EQ(FrontendInfoJson(Frontend("127.0.0.1:7101", 4242, true, v1::PUSH, 2, true)),
            R"({"address":"127.0.0.1:7101","pid":4242,"master":true,)"
            R"("cache_mode":"push","clients":2,"alive":true})");
  EXPECT_EQ(FrontendInfoJson(Frontend("h:1", 0, false, v1::PULL, 0, false)),
            R"({"address":"h:1","pid":0,"master":false,"cache_mode":"pull",)"
            R"("clients":0,"alive":false})");
  EXPECT_EQ(CacheModeName(v1::OFF), "off");
}

TEST(FormatTest, FrontendTableAlignsColumns) {
  const std::vector<v1::FrontendInfo> frontends = {
      Frontend("127.0.0.1:7101", 4242, true, v1::PUSH, 2, true),
      Frontend("localhost:7102", 0, false, v1::PUSH, 12, false)};
  EXPECT_EQ(FrontendTableText(frontends),
            "127.0.0.1:7101  pid 4242  master  push  clients 2  alive\n"
            "localhost:7102  pid    0  member  push  clients 12  dead\n");
}

}  // namespace
}  // namespace podium
