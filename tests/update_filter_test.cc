// The subscription's delivery filter and resume bookkeeping
// (client/update_filter.h), without servers: versions per key strictly
// increase as delivered, and the resume seq never claims more than was
// delivered.
#include "client/update_filter.h"

#include <map>
#include <string>
#include <vector>

#include "common/keys.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

v1::SubscribeUpdate EventUpdate(const std::string& event, int64_t seq,
                                bool snapshot = false) {
  v1::SubscribeUpdate update;
  update.mutable_change()->set_seq(seq);
  update.mutable_change()->mutable_event()->set_event(event);
  update.mutable_change()->mutable_event()->set_version(seq);
  update.set_snapshot(snapshot);
  return update;
}

v1::SubscribeUpdate TeamUpdate(const std::string& team, int64_t seq,
                               bool snapshot = false) {
  v1::SubscribeUpdate update;
  update.mutable_change()->set_seq(seq);
  update.mutable_change()->mutable_medals()->set_team(team);
  update.mutable_change()->mutable_medals()->set_version(seq);
  update.set_snapshot(snapshot);
  return update;
}

TEST(UpdateFilterTest, DeliversOnlyVersionsNewerThanTheKeysLast) {
  UpdateFilter filter;
  StreamCursor cursor(0);
  EXPECT_TRUE(filter.Admit(EventUpdate("javelin", 5), &cursor));
  EXPECT_FALSE(filter.Admit(EventUpdate("javelin", 5), &cursor));  // again
  EXPECT_FALSE(filter.Admit(EventUpdate("javelin", 3), &cursor));  // older
  EXPECT_TRUE(filter.Admit(EventUpdate("javelin", 9), &cursor));
  EXPECT_EQ(filter.last_version(EventKey("javelin")), 9);
  EXPECT_EQ(filter.delivered(), 2);
  EXPECT_EQ(filter.dropped(), 2);
}

TEST(UpdateFilterTest, KeysAreIndependentAndEventsAreNotTeams) {
  UpdateFilter filter;
  StreamCursor cursor(0);
  EXPECT_TRUE(filter.Admit(EventUpdate("javelin", 7), &cursor));
  EXPECT_TRUE(filter.Admit(EventUpdate("boar-hunt", 4), &cursor));
  // A team named like an event is another key.
  EXPECT_TRUE(filter.Admit(TeamUpdate("javelin", 6), &cursor));
  EXPECT_FALSE(filter.Admit(EventUpdate("javelin", 6), &cursor));
  EXPECT_EQ(filter.last_version(TeamKey("javelin")), 6);
  EXPECT_EQ(filter.last_version(EventKey("javelin")), 7);
  EXPECT_EQ(filter.last_version(EventKey("discus")), std::nullopt);
}

TEST(UpdateFilterTest, NeverWrittenKeysOfASnapshotAreDeliveredOnce) {
  UpdateFilter filter;
  StreamCursor first(0);
  EXPECT_TRUE(filter.Admit(EventUpdate("curling", 0, /*snapshot=*/true), &first));
  // The same snapshot again after a resume from 0: nothing new.
  StreamCursor second(0);
  EXPECT_FALSE(filter.Admit(EventUpdate("curling", 0, true), &second));
  EXPECT_TRUE(filter.Admit(EventUpdate("curling", 12), &second));
}

TEST(UpdateFilterTest, UpdatesWithoutAValueAreDropped) {
  UpdateFilter filter;
  StreamCursor cursor(0);
  v1::SubscribeUpdate empty;
  empty.mutable_change()->set_seq(99);
  EXPECT_FALSE(filter.Admit(empty, &cursor));
  EXPECT_EQ(filter.resume_seq(), 0);
  EXPECT_EQ(filter.dropped(), 1);
}

TEST(UpdateFilterTest, ResumeSeqFollowsChangesNotSnapshotEntries) {
  UpdateFilter filter;
  StreamCursor cursor(0);
  // A snapshot, key by key, out of seq order.
  ASSERT_TRUE(filter.Admit(EventUpdate("javelin", 40, true), &cursor));
  ASSERT_TRUE(filter.Admit(EventUpdate("boar-hunt", 12, true), &cursor));
  // Broken here, the stream might not have sent every key yet: resuming
  // after 40 could skip a key last changed at, say, 30.
  EXPECT_EQ(filter.resume_seq(), 0);
  ASSERT_TRUE(filter.Admit(TeamUpdate("Gauls", 30, true), &cursor));
  // The first change after the snapshot: everything up to it was sent.
  ASSERT_TRUE(filter.Admit(EventUpdate("boar-hunt", 41), &cursor));
  EXPECT_EQ(filter.resume_seq(), 41);
  // A change the filter drops (already delivered) still moves the cursor:
  // the stream has sent it.
  EXPECT_FALSE(filter.Admit(EventUpdate("boar-hunt", 41), &cursor));
  EXPECT_EQ(filter.resume_seq(), 41);
}

TEST(UpdateFilterTest, AStreamBrokenMidSnapshotResumesFromBeforeIt) {
  UpdateFilter filter(/*resume_seq=*/100);
  StreamCursor first(filter.resume_seq());
  ASSERT_TRUE(filter.Admit(EventUpdate("javelin", 101), &first));
  EXPECT_EQ(filter.resume_seq(), 101);
  // The next frontend's history is compacted: a snapshot, cut short.
  StreamCursor second(filter.resume_seq());
  ASSERT_TRUE(filter.Admit(EventUpdate("javelin", 250, true), &second));
  EXPECT_EQ(filter.resume_seq(), 101);
  // The third stream sends the snapshot again: javelin is not repeated,
  // the key the cut one never reached is delivered.
  StreamCursor third(filter.resume_seq());
  EXPECT_FALSE(filter.Admit(EventUpdate("javelin", 250, true), &third));
  EXPECT_TRUE(filter.Admit(EventUpdate("boar-hunt", 180, true), &third));
  EXPECT_TRUE(filter.Admit(EventUpdate("boar-hunt", 251), &third));
  EXPECT_EQ(filter.resume_seq(), 251);
}

// The move home, make before break: the away stream goes on while the
// home stream replays from the resume seq it was opened with. Interleaved
// any way, the merged delivery is every change exactly once, in seq order.
TEST(UpdateFilterTest, TwoStreamsInterleavedDeliverEachChangeOnceInOrder) {
  const std::vector<std::string> keys = {"javelin", "boar-hunt", "menhir-put"};
  auto change = [&](int64_t seq) { return EventUpdate(keys[seq % 3], seq); };
  for (int pattern = 0; pattern < 64; ++pattern) {
    UpdateFilter filter;
    StreamCursor away(0);
    for (int64_t seq = 1; seq <= 100; ++seq) filter.Admit(change(seq), &away);
    ASSERT_EQ(filter.resume_seq(), 100);
    StreamCursor home(filter.resume_seq());
    int64_t next_away = 101;
    int64_t next_home = 101;
    std::vector<int64_t> delivered;
    // The bits of `pattern` choose which stream speaks next.
    for (int step = 0; next_away <= 120 || next_home <= 120; ++step) {
      const bool from_away =
          next_home > 120 || (next_away <= 120 && ((pattern >> (step % 6)) & 1));
      const int64_t seq = from_away ? next_away++ : next_home++;
      if (filter.Admit(change(seq), from_away ? &away : &home)) {
        delivered.push_back(seq);
      }
    }
    std::vector<int64_t> expected;
    for (int64_t seq = 101; seq <= 120; ++seq) expected.push_back(seq);
    EXPECT_EQ(delivered, expected) << "pattern " << pattern;
    EXPECT_EQ(filter.resume_seq(), 120);
  }
}

}  // namespace
}  // namespace podium
