#include "backend/change_log.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::HasSubstr;

std::vector<v1::Change> Changes(int64_t first, int64_t last) {
  std::vector<v1::Change> out;
  for (int64_t seq = first; seq <= last; ++seq) {
    v1::Change change;
    change.set_seq(seq);
    change.mutable_medals()->set_team("Gauls");
    change.mutable_medals()->set_gold(seq);
    out.push_back(change);
  }
  return out;
}

TEST(ChangeLogTest, SinceReturnsNewerChangesInOrderAndPages) {
  ChangeLog log(100);
  log.Append(Changes(1, 10));
  EXPECT_EQ(log.head_seq(), 10);
  absl::StatusOr<std::vector<v1::Change>> got = log.Since(3, 4);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ((*got)[0].seq(), 4);
  EXPECT_EQ((*got)[3].seq(), 7);
  EXPECT_TRUE(log.Since(10, 100)->empty());
  EXPECT_EQ(log.Since(0, 100)->size(), 10u);
}

TEST(ChangeLogTest, CompactedHistoryIsOutOfRange) {
  ChangeLog log(5);
  log.Append(Changes(1, 20));
  EXPECT_EQ(log.Since(15, 100)->size(), 5u);  // 16..20 are retained
  absl::StatusOr<std::vector<v1::Change>> got = log.Since(14, 100);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(got.status().message(), HasSubstr("GetBoard"));
}

TEST(ChangeLogTest, ResumesAfterRestartFromAnySeq) {
  ChangeLog log(100);
  log.Append(Changes(500, 510));  // what a restarted store reloads
  EXPECT_EQ(log.head_seq(), 510);
  EXPECT_EQ(log.Since(499, 100)->size(), 11u);
  EXPECT_EQ(log.Since(498, 100).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(ChangeLogTest, HistoryOfAKeyFiltersPagesAndSaysWhereTheLogWasCompacted) {
  ChangeLog log(6);
  std::vector<v1::Change> changes = Changes(1, 8);  // all team:Gauls
  for (int64_t seq : {2, 5, 7}) {
    v1::Change& change = changes[seq - 1];
    change.mutable_event()->set_event("javelin");  // replaces the tally
  }
  log.Append(changes);  // 3..8 retained
  v1::History gauls = log.HistoryOf("team:Gauls", 0, 100);
  EXPECT_EQ(gauls.key(), "team:Gauls");
  EXPECT_EQ(gauls.head_seq(), 8);
  EXPECT_EQ(gauls.compacted_through_seq(), 2);
  ASSERT_EQ(gauls.changes_size(), 4);
  EXPECT_EQ(gauls.changes(0).seq(), 3);
  EXPECT_EQ(gauls.changes(1).seq(), 4);
  EXPECT_EQ(gauls.changes(2).seq(), 6);
  EXPECT_EQ(gauls.changes(3).seq(), 8);
  EXPECT_FALSE(gauls.more());

  v1::History page = log.HistoryOf("event:javelin", 0, 1);
  ASSERT_EQ(page.changes_size(), 1);
  EXPECT_EQ(page.changes(0).seq(), 5);
  EXPECT_TRUE(page.more());
  page = log.HistoryOf("event:javelin", 5, 1);
  ASSERT_EQ(page.changes_size(), 1);
  EXPECT_EQ(page.changes(0).seq(), 7);
  EXPECT_FALSE(page.more());
  EXPECT_EQ(log.HistoryOf("event:javelin", 8, 1).changes_size(), 0);
  EXPECT_EQ(log.HistoryOf("team:Romans", 0, 100).changes_size(), 0);
  // A name is matched whole, not as a prefix.
  EXPECT_EQ(log.HistoryOf("team:Gaul", 0, 100).changes_size(), 0);
}

// etcd's revisions count writes outside Podium's keys too: seqs skip.
TEST(ChangeLogTest, SeqsMaySkipAndAReaderInAGapGetsWhatFollowsIt) {
  ChangeLog log(3);
  std::vector<v1::Change> changes = Changes(1, 1);
  for (int64_t seq : {4, 9, 12}) changes.push_back(Changes(seq, seq)[0]);
  log.Append(changes);  // 4, 9, 12 retained: complete after 1
  EXPECT_EQ(log.head_seq(), 12);
  absl::StatusOr<std::vector<v1::Change>> got = log.Since(5, 100);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].seq(), 9);
  EXPECT_EQ(log.Since(1, 100)->size(), 3u);  // 2 and 3 never existed
  EXPECT_EQ(log.Since(0, 100).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log.HistoryOf("team:Gauls", 0, 100).compacted_through_seq(), 1);
}

TEST(ChangeLogTest, AChangeOutOfOrderIsFatal) {
  ChangeLog log(100);
  log.Append(Changes(1, 3));
  EXPECT_DEATH(log.Append(Changes(3, 3)), "out of order");
}

TEST(ChangeLogTest, ARestartForgetsEverythingAndIsCompleteAfterItsSeq) {
  ChangeLog log(100);
  log.Append(Changes(1, 5));
  log.RestartAfter(20);
  EXPECT_EQ(log.head_seq(), 20);
  EXPECT_TRUE(log.Since(20, 100)->empty());
  EXPECT_EQ(log.Since(19, 100).status().code(), absl::StatusCode::kOutOfRange);
  log.Append(Changes(23, 23));
  ASSERT_EQ(log.Since(20, 100)->size(), 1u);
  EXPECT_EQ(log.HistoryOf("team:Gauls", 0, 100).compacted_through_seq(), 20);
}

TEST(ChangeLogTest, WaitWakesOnAppendAndTimesOut) {
  ChangeLog log(100);
  log.Append(Changes(1, 1));
  EXPECT_FALSE(log.WaitForChangesAfter(1, absl::Now() + absl::Milliseconds(20)));
  EXPECT_TRUE(log.WaitForChangesAfter(0, absl::Now()));
  std::thread appender([&] { log.Append(Changes(2, 2)); });
  // Generous deadline: the wait returns as soon as the append lands.
  EXPECT_TRUE(log.WaitForChangesAfter(1, absl::Now() + absl::Seconds(30)));
  appender.join();
}

}  // namespace
}  // namespace podium
