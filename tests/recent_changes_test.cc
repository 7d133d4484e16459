#include "frontend/recent_changes.h"

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
  recent.Add(Score("a", 5));
  EXPECT_FALSE(recent.Since(kA, 4).has_value());
  recent.Cover({EventKey("a")}, 4, recent.generation());
  ASSERT_TRUE(recent.Since(kA, 4).has_value());
  EXPECT_EQ(Seqs(*recent.Since(kA, 4)), (std::vector<int64_t>{5}));
  EXPECT_FALSE(recent.Since(kA, 3).has_value()) << "before the covered seq";
  EXPECT_FALSE(recent.Since(kAB, 4).has_value()) << "b is not covered";
}

TEST(RecentChangesTest, ServesOnlyTheWantedKeysAboveTheSeqInOrderWhateverTheOrderAdded) {
  RecentChanges recent;
  recent.Add(Score("a", 7));
  recent.Add(Score("b", 9));
  recent.Add(Score("a", 3));
  recent.Add(Score("b", 5));
  recent.Add(Score("a", 3));  // again: held once
  recent.Cover({EventKey("a"), EventKey("b")}, 2, recent.generation());
  EXPECT_EQ(Seqs(*recent.Since(kA, 2)), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(Seqs(*recent.Since(kAB, 4)), (std::vector<int64_t>{5, 7, 9}));
  EXPECT_EQ(Seqs(*recent.Since(kAB, 9)), (std::vector<int64_t>{}));
  EXPECT_EQ(recent.size(), 4u);
}

TEST(RecentChangesTest, EvictionRaisesTheFloorBelowWhichNothingIsServed) {
  RecentChanges recent(3);
  recent.Cover({EventKey("a")}, 0, recent.generation());
  for (int64_t seq = 1; seq <= 5; ++seq) recent.Add(Score("a", seq));
  EXPECT_EQ(recent.size(), 3u);
  EXPECT_FALSE(recent.Since(kA, 1).has_value()) << "seq 2 was let go";
  EXPECT_EQ(Seqs(*recent.Since(kA, 2)), (std::vector<int64_t>{3, 4, 5}));
  recent.Add(Score("a", 1));  // older than the floor: not taken back
  EXPECT_EQ(recent.size(), 3u);
}

TEST(RecentChangesTest, AGapForgetsEveryKeyAndACoverReadBeforeItIsRefused) {
  RecentChanges recent;
  const int64_t before = recent.generation();
  recent.Cover({EventKey("a")}, 0, before);
  recent.Add(Score("a", 1));
  recent.Forget();
  EXPECT_FALSE(recent.Since(kA, 0).has_value());
  recent.Cover({EventKey("a")}, 0, before);
  EXPECT_FALSE(recent.Since(kA, 0).has_value()) << "read before the gap";
  recent.Cover({EventKey("a")}, 0, recent.generation());
  EXPECT_EQ(Seqs(*recent.Since(kA, 0)), (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace podium
