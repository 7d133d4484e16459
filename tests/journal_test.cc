// The bard's journal: records survive reopening, pending writes are found
// and re-sent with their own keys, a torn last line is dropped while
// corruption before valid lines is refused, and the summary counts each
// acknowledged award once.
#include "bard/journal.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bard/journal_format.h"
#include "bard/journaled_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"

namespace podium {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

v1::AwardMedalRequest Award(const std::string& key, const std::string& team, v1::Medal medal) {
  v1::AwardMedalRequest request;
  request.set_idempotency_key(key);
  request.set_team(team);
  request.set_medal(medal);
  request.set_event("menhir-put");
  return request;
}

v1::RecordScoreRequest Score(const std::string& key) {
  v1::RecordScoreRequest request;
  request.set_idempotency_key(key);
  request.set_event("menhir-put");
  v1::TeamPoints* points = request.add_points();
  points->set_team("Gauls");
  points->set_points(3);
  request.set_status(v1::LIVE);
  return request;
}

JournalRecord WriteRecord(JournalRequest request) {
  JournalRecord record;
  record.kind = JournalRecord::kWrite;
  record.key = RequestKey(request);
  record.request = std::move(request);
  return record;
}

v1::WriteReply Reply(int64_t seq, bool duplicate) {
  v1::WriteReply reply;
  reply.mutable_change()->set_seq(seq);
  reply.set_duplicate(duplicate);
  return reply;
}

class JournalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Journal> Open() {
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(path_);
    EXPECT_TRUE(journal.ok()) << journal.status();
    return journal.ok() ? *std::move(journal) : nullptr;
  }
  void AppendRaw(const std::string& text) { std::ofstream(path_, std::ios::app) << text; }

  harness::ScopedTempDir dir_;
  const std::string path_ = dir_.path() + "/bard.journal";
};

TEST_F(JournalTest, RecordsSurviveReopening) {
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_TRUE(journal->RecordWrite(Score("k1")).ok());
    ASSERT_TRUE(journal->RecordAck("k1", Reply(1, false)).ok());
    ASSERT_TRUE(journal->RecordWrite(Award("k2", "Gauls", v1::GOLD)).ok());
    ASSERT_TRUE(journal->RecordAck("k2", Reply(2, true)).ok());
    ASSERT_TRUE(journal->RecordWrite(Award("k3", "Romans", v1::SILVER)).ok());
  }
  std::unique_ptr<Journal> journal = Open();
  EXPECT_EQ(journal->torn_lines(), 0);
  const JournalSummary summary = journal->Summary();
  EXPECT_EQ(summary.acked, 2);
  EXPECT_EQ(summary.duplicates, 1);
  EXPECT_EQ(summary.pending, 1);
  EXPECT_EQ(summary.refused, 0);
  ASSERT_EQ(summary.medals.size(), 1u);  // the Romans' silver is pending
  EXPECT_EQ(summary.medals.at("Gauls").gold, 1);
  const std::vector<JournalRequest> pending = journal->Pending();
  ASSERT_THAT(pending, SizeIs(1));
  EXPECT_EQ(RequestKey(pending[0]), "k3");
  EXPECT_EQ(std::get<v1::AwardMedalRequest>(pending[0]).team(), "Romans");
}

TEST_F(JournalTest, PendingWritesComeOldestFirst) {
  std::unique_ptr<Journal> journal = Open();
  for (const char* key : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(journal->RecordWrite(Score(key)).ok());
  }
  ASSERT_TRUE(journal->RecordAck("b", Reply(7, false)).ok());
  ASSERT_TRUE(journal->RecordRefusal("c", absl::NotFoundError("unknown event")).ok());
  journal.reset();
  journal = Open();
  std::vector<std::string> keys;
  for (const JournalRequest& request : journal->Pending()) {
    keys.push_back(RequestKey(request));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "d"}));
  EXPECT_EQ(journal->Summary().refused, 1);
}

TEST_F(JournalTest, TornLastLineIsDroppedAndCutAway) {
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_TRUE(journal->RecordWrite(Award("k1", "Gauls", v1::GOLD)).ok());
    ASSERT_TRUE(journal->RecordAck("k1", Reply(1, false)).ok());
  }
  // A crash in the middle of appending the next write.
  const std::string line = FormatJournalLine(WriteRecord(Award("k2", "Gauls", v1::GOLD)));
  AppendRaw(line.substr(0, line.size() / 2));
  {
    std::unique_ptr<Journal> journal = Open();
    EXPECT_EQ(journal->torn_lines(), 1);
    EXPECT_EQ(journal->Summary().acked, 1);
    EXPECT_THAT(journal->Pending(), SizeIs(0));
    // The next append starts on a clean line.
    ASSERT_TRUE(journal->RecordWrite(Award("k3", "Romans", v1::BRONZE)).ok());
  }
  std::unique_ptr<Journal> journal = Open();
  EXPECT_EQ(journal->torn_lines(), 0);
  ASSERT_THAT(journal->Pending(), SizeIs(1));
  EXPECT_EQ(RequestKey(journal->Pending()[0]), "k3");
}

TEST_F(JournalTest, GarbageAtTheEndIsATornTail) {
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_TRUE(journal->RecordWrite(Score("k1")).ok());
  }
  AppendRaw(std::string("ack 1 new k1 #00000000\0\0\0\n\0\0", 28));
  std::unique_ptr<Journal> journal = Open();
  EXPECT_EQ(journal->torn_lines(), 2);
  EXPECT_THAT(journal->Pending(), SizeIs(1));
}

TEST_F(JournalTest, CorruptionBeforeValidLinesIsDataLoss) {
  AppendRaw(FormatJournalLine(WriteRecord(Score("k1"))));
  AppendRaw("write score this line was damaged #0123456789abcdef\n");
  AppendRaw(FormatJournalLine(WriteRecord(Score("k2"))));
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(path_);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(journal.status().message(), HasSubstr(path_ + ":2:"));
}

TEST_F(JournalTest, AnAckWithoutItsWriteIsDataLoss) {
  JournalRecord ack;
  ack.kind = JournalRecord::kAck;
  ack.key = "nowhere";
  AppendRaw(FormatJournalLine(ack));
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(path_);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(JournalTest, OneBardAtATime) {
  std::unique_ptr<Journal> first = Open();
  absl::StatusOr<std::unique_ptr<Journal>> second = Journal::Open(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first.reset();
  EXPECT_TRUE(Journal::Open(path_).ok());
}

TEST_F(JournalTest, AKeyNamesOneWrite) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_TRUE(journal->RecordWrite(Award("k", "Gauls", v1::GOLD)).ok());
  ASSERT_TRUE(journal->RecordAck("k", Reply(4, false)).ok());
  const std::string before = harness::ReadFileOrEmpty(path_);
  // Sending the same write again (a replay re-run) adds nothing; the second
  // answer does not count the medal again.
  ASSERT_TRUE(journal->RecordWrite(Award("k", "Gauls", v1::GOLD)).ok());
  ASSERT_TRUE(journal->RecordAck("k", Reply(4, true)).ok());
  EXPECT_EQ(harness::ReadFileOrEmpty(path_), before);
  EXPECT_EQ(journal->Summary().medals.at("Gauls").gold, 1);
  EXPECT_EQ(journal->RecordWrite(Award("k", "Romans", v1::GOLD)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(journal->RecordAck("unknown", Reply(5, false)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(journal->RecordWrite(Score("")).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JournalTest, SummaryCountsAcknowledgedAwardsPerTeam) {
  std::unique_ptr<Journal> journal = Open();
  const std::vector<std::pair<std::string, v1::Medal>> awards = {{"Gauls", v1::GOLD},
                                                                 {"Gauls", v1::GOLD},
                                                                 {"Romans", v1::SILVER},
                                                                 {"Gauls", v1::BRONZE},
                                                                 {"Britons", v1::BRONZE}};
  for (size_t i = 0; i < awards.size(); ++i) {
    const std::string key = absl::StrCat("a", i);
    ASSERT_TRUE(journal->RecordWrite(Award(key, awards[i].first, awards[i].second)).ok());
    if (i != 4) {
      ASSERT_TRUE(journal->RecordAck(key, Reply(i + 1, i == 1)).ok());
    }
  }
  const JournalSummary summary = journal->Summary();
  EXPECT_EQ(summary.medals.at("Gauls"), (MedalCount{2, 0, 1}));
  EXPECT_EQ(summary.medals.at("Romans"), (MedalCount{0, 1, 0}));
  EXPECT_EQ(summary.medals.count("Britons"), 0u);
  EXPECT_EQ(JournalSummaryToJson(summary),
            "{\"acked\":4,\"duplicates\":1,\"pending\":1,\"refused\":0,"
            "\"medals\":{\"Gauls\":{\"gold\":2,\"silver\":0,\"bronze\":1},"
            "\"Romans\":{\"gold\":0,\"silver\":1,\"bronze\":0}}}");
  EXPECT_THAT(DescribeJournalSummary("j", summary),
              HasSubstr("4 writes acknowledged (1 already applied), 1 "
                        "pending, 0 refused\nGauls gold=2 silver=0 bronze=1"));
}

TEST_F(JournalTest, AnAcknowledgedRevocationTakesItsMedalOffTheSummary) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_TRUE(journal->RecordWrite(Award("a", "Gauls", v1::GOLD)).ok());
  ASSERT_TRUE(journal->RecordAck("a", Reply(1, false)).ok());
  v1::AwardMedalRequest revoke = Award("r", "Gauls", v1::GOLD);
  revoke.set_revoke(true);
  revoke.set_reason("disqualified");
  ASSERT_TRUE(journal->RecordWrite(revoke).ok());
  ASSERT_TRUE(journal->RecordAck("r", Reply(2, false)).ok());
  EXPECT_EQ(journal->Summary().medals.at("Gauls"), (MedalCount{0, 0, 0}));
}

TEST(JournalFormatTest, EveryKindOfLineRoundTrips) {
  JournalRecord refused;
  refused.kind = JournalRecord::kRefused;
  refused.key = "odd key \"\\\n";
  refused.code = absl::StatusCode::kNotFound;
  JournalRecord ack;
  ack.kind = JournalRecord::kAck;
  ack.key = "bard-0123-7";
  ack.seq = 42;
  ack.duplicate = true;
  for (const JournalRecord& record :
       {WriteRecord(Score("s1")), WriteRecord(Award("a1", "Gauls", v1::GOLD)), ack, refused}) {
    const std::string line = FormatJournalLine(record);
    ASSERT_TRUE(absl::EndsWith(line, "\n"));
    ASSERT_EQ(line.find('\n'), line.size() - 1) << line;
    absl::StatusOr<JournalRecord> parsed =
        ParseJournalLine(absl::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << line;
    EXPECT_EQ(FormatJournalLine(*parsed), line);
  }
  EXPECT_THAT(FormatJournalLine(WriteRecord(Score("s1"))),
              HasSubstr("write score idempotency_key: \"s1\" event: "
                        "\"menhir-put\" points { team: \"Gauls\" points: 3 } "
                        "status: LIVE #"));
}

// Stands in for the backend: applies each key once, remembers which keys
// it saw, and can fail a write with an unknown outcome.
class FakeBackend : public ScoreWriter {
 public:
  explicit FakeBackend(std::string journal_path) : journal_path_(std::move(journal_path)) {}
  absl::StatusOr<v1::WriteReply> RecordScore(v1::RecordScoreRequest request) override {
    return Apply(request.idempotency_key());
  }
  absl::StatusOr<v1::WriteReply> AwardMedal(v1::AwardMedalRequest request) override {
    return Apply(request.idempotency_key());
  }

  std::vector<std::string> sent;
  std::vector<std::string> applied;
  absl::Status fail_next;  // returned once, after applying (an answer lost)
  bool journaled_before_sending = true;

 private:
  absl::StatusOr<v1::WriteReply> Apply(const std::string& key) {
    sent.push_back(key);
    if (!absl::StrContains(harness::ReadFileOrEmpty(journal_path_),
                           absl::StrCat("\"", key, "\""))) {
      journaled_before_sending = false;
    }
    const bool duplicate = std::find(applied.begin(), applied.end(), key) != applied.end();
    if (!duplicate) applied.push_back(key);
    if (!fail_next.ok()) return std::exchange(fail_next, absl::OkStatus());
    return Reply(static_cast<int64_t>(applied.size()), duplicate);
  }
  const std::string journal_path_;
};

TEST_F(JournalTest, JournaledWriterCompletesWhatAKilledBardLeftPending) {
  FakeBackend backend(path_);
  int next = 0;
  auto keys = [&] { return absl::StrCat("bard-x-", ++next); };
  {
    std::unique_ptr<Journal> journal = Open();
    JournaledWriter writer(journal.get(), &backend, keys);
    ASSERT_TRUE(writer.AwardMedal(Award("", "Gauls", v1::GOLD)).ok());
    // Applied, but the answer is lost and the bard gives up (or dies).
    backend.fail_next = absl::UnavailableError("connection reset");
    EXPECT_FALSE(writer.AwardMedal(Award("", "Romans", v1::SILVER)).ok());
    EXPECT_THAT(journal->Pending(), SizeIs(1));
  }
  std::unique_ptr<Journal> journal = Open();
  JournaledWriter writer(journal.get(), &backend, keys);
  int64_t resent = 0;
  ASSERT_TRUE(writer.ResendPending(&resent).ok());
  EXPECT_EQ(resent, 1);
  EXPECT_EQ(backend.sent, (std::vector<std::string>{"bard-x-1", "bard-x-2", "bard-x-2"}));
  EXPECT_TRUE(backend.journaled_before_sending);
  const JournalSummary summary = journal->Summary();
  EXPECT_EQ(summary.pending, 0);
  EXPECT_EQ(summary.duplicates, 1);
  EXPECT_EQ(summary.medals.at("Romans").silver, 1);
  EXPECT_EQ(backend.applied.size(), 2u);
}

TEST_F(JournalTest, ResendStopsAtAnUnknownOutcomeAndSkipsRefusals) {
  FakeBackend backend(path_);
  {
    std::unique_ptr<Journal> journal = Open();
    for (const char* key : {"p1", "p2", "p3"}) {
      ASSERT_TRUE(journal->RecordWrite(Score(key)).ok());
    }
  }
  std::unique_ptr<Journal> journal = Open();
  JournaledWriter writer(journal.get(), &backend, [] { return "unused"; });
  backend.fail_next = absl::NotFoundError("unknown event");
  int64_t resent = 0;
  ASSERT_TRUE(writer.ResendPending(&resent).ok());
  EXPECT_EQ(resent, 3);
  EXPECT_EQ(journal->Summary().refused, 1);
  EXPECT_EQ(journal->Summary().acked, 2);

  ASSERT_TRUE(journal->RecordWrite(Score("p4")).ok());
  ASSERT_TRUE(journal->RecordWrite(Score("p5")).ok());
  backend.fail_next = absl::DeadlineExceededError("backend down");
  const absl::Status status = writer.ResendPending();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(status.message(), HasSubstr("p4"));
  EXPECT_THAT(journal->Pending(), SizeIs(2));  // p5 was not tried
}

}  // namespace
}  // namespace podium
