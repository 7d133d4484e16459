#include "frontend/recent_changes.h"

#include <limits>
#include <string>
#include <vector>

#include "common/keys.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

EncodedChangePtr Score(const std::string& event, int64_t seq) {
  v1::Change change;
  change.set_seq(seq);
  change.mutable_event()->set_event(event);
  change.mutable_event()->set_version(seq);
  return EncodeChange(change);
}

std::vector<int64_t> Seqs(const std::vector<EncodedChangePtr>& changes) {
  std::vector<int64_t> seqs;
  for (const EncodedChangePtr& change : changes) seqs.push_back(change->change.seq());
  return seqs;
}

const absl::flat_hash_set<std::string> kA = {EventKey("a")};
const absl::flat_hash_set<std::string> kAB = {EventKey("a"), EventKey("b")};

TEST(RecentChangesTest, NothingIsVouchedForUntilAKeyIsCovered) {
  RecentChanges recent;
  recent.AddLive(Score("a", 5));
  EXPECT_FALSE(recent.Since(kA, 4).has_value());
  recent.Cover({EventKey("a")}, 4, 5, recent.generation());
  ASSERT_TRUE(recent.Since(kA, 4).has_value());
  EXPECT_EQ(Seqs(*recent.Since(kA, 4)), (std::vector<int64_t>{5}));
  EXPECT_FALSE(recent.Since(kA, 3).has_value()) << "before the covered seq";
  EXPECT_FALSE(recent.Since(kAB, 4).has_value()) << "b is not covered";
}

TEST(RecentChangesTest, ServesOnlyTheWantedKeysAboveTheSeqInOrderWhateverTheOrderAdded) {
  RecentChanges recent;
  recent.AddHistory(Score("a", 7));
  recent.AddHistory(Score("b", 9));
  recent.AddHistory(Score("a", 3));
  recent.AddHistory(Score("b", 5));
  recent.AddHistory(Score("a", 3));  // again: held once
  recent.Cover({EventKey("a"), EventKey("b")}, 2, 9, recent.generation());
  EXPECT_EQ(Seqs(*recent.Since(kA, 2)), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(Seqs(*recent.Since(kAB, 4)), (std::vector<int64_t>{5, 7, 9}));
  EXPECT_EQ(Seqs(*recent.Since(kAB, 9)), (std::vector<int64_t>{}));
  EXPECT_EQ(Seqs(*recent.Since(kAB, std::numeric_limits<int64_t>::max())),
            (std::vector<int64_t>{}));
  EXPECT_EQ(recent.size(), 4u);
}

// A read made for another key brings a newer change of a covered one
// before the feed has delivered the change between: serving it would make
// the subscription drop the older one when it comes.
TEST(RecentChangesTest, NothingAboveWhatTheFeedOrAReadOfTheKeyDeliveredIsServed) {
  RecentChanges recent;
  for (int64_t seq = 91; seq <= 140; ++seq) recent.AddLive(Score("x", seq));
  recent.Cover({EventKey("x")}, 90, 140, recent.generation());
  recent.AddHistory(Score("x", 160));  // read for key y, after 155
  const absl::flat_hash_set<std::string> x = {EventKey("x")};
  EXPECT_EQ(Seqs(*recent.Since(x, 145)), (std::vector<int64_t>{}));
  recent.AddLive(Score("x", 150));
  EXPECT_EQ(Seqs(*recent.Since(x, 145)), (std::vector<int64_t>{150}));
  recent.AddLive(Score("x", 160));
  EXPECT_EQ(Seqs(*recent.Since(x, 145)), (std::vector<int64_t>{150, 160}));
}

TEST(RecentChangesTest, ACoverWithAHoleBelowItReplacesTheOlderRange) {
  RecentChanges recent;
  recent.AddHistory(Score("a", 3));
  recent.Cover({EventKey("a")}, 2, 3, recent.generation());
  recent.AddHistory(Score("a", 9));
  recent.Cover({EventKey("a")}, 8, 9, recent.generation());  // 4..8 never read
  EXPECT_FALSE(recent.Since(kA, 2).has_value());
  EXPECT_EQ(Seqs(*recent.Since(kA, 8)), (std::vector<int64_t>{9}));
  recent.AddHistory(Score("a", 5));
  recent.Cover({EventKey("a")}, 3, 8, recent.generation());  // the hole, read
  EXPECT_EQ(Seqs(*recent.Since(kA, 3)), (std::vector<int64_t>{5, 9}));
}

TEST(RecentChangesTest, EvictionRaisesTheFloorBelowWhichNothingIsServed) {
  RecentChanges recent(3);
  recent.Cover({EventKey("a")}, 0, 0, recent.generation());
  for (int64_t seq = 1; seq <= 5; ++seq) recent.AddLive(Score("a", seq));
  EXPECT_EQ(recent.size(), 3u);
  EXPECT_FALSE(recent.Since(kA, 1).has_value()) << "seq 2 was let go";
  EXPECT_EQ(Seqs(*recent.Since(kA, 2)), (std::vector<int64_t>{3, 4, 5}));
  recent.AddHistory(Score("a", 1));  // older than the floor: not taken back
  EXPECT_EQ(recent.size(), 3u);
}

TEST(RecentChangesTest, AGapForgetsEveryKeyAndACoverReadBeforeItIsRefused) {
  RecentChanges recent;
  const int64_t before = recent.generation();
  recent.Cover({EventKey("a")}, 0, 0, before);
  recent.AddLive(Score("a", 1));
  recent.Forget();
  EXPECT_FALSE(recent.Since(kA, 0).has_value());
  recent.Cover({EventKey("a")}, 0, 1, before);
  EXPECT_FALSE(recent.Since(kA, 0).has_value()) << "read before the gap";
  recent.Cover({EventKey("a")}, 0, 1, recent.generation());
  EXPECT_EQ(Seqs(*recent.Since(kA, 0)), (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace podium
