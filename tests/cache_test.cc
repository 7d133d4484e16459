#include "frontend/cache.h"

#include <thread>

#include "gtest/gtest.h"

namespace podium {
namespace {

v1::Change Tally(const std::string& team, int64_t seq, int64_t gold) {
  v1::Change change;
  change.set_seq(seq);
  change.mutable_medals()->set_team(team);
  change.mutable_medals()->set_gold(gold);
  change.mutable_medals()->set_version(seq);
  return change;
}

TEST(CacheTest, MissThenFillThenHit) {
  Cache cache;
  cache.InvalidateAll(1);
  EXPECT_EQ(cache.Get("team:Gauls"), nullptr);
  CachedValue served = cache.Fill("team:Gauls", Tally("Gauls", 5, 1), 1);
  EXPECT_EQ(served->seq(), 5);
  ASSERT_NE(cache.Get("team:Gauls"), nullptr);
  EXPECT_EQ(cache.Get("team:Gauls")->change().medals().gold(), 1);
  Cache::Stats stats = cache.stats();
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.hits, 2);
}

TEST(CacheTest, AppliedChangesOnlyMoveForward) {
  Cache cache;
  EXPECT_TRUE(cache.Apply(Tally("Gauls", 7, 3), 0));
  EXPECT_FALSE(cache.Apply(Tally("Gauls", 6, 2), 0));
  EXPECT_EQ(cache.Get("team:Gauls")->seq(), 7);
  EXPECT_TRUE(cache.Apply(Tally("Gauls", 9, 4), 0));
  EXPECT_EQ(cache.Get("team:Gauls")->change().medals().gold(), 4);
}

// The race of guarantee 3: a miss reads version 5 from the backend; before
// it installs that, a push brings version 6. The fill must not win.
TEST(CacheTest, FillThatLostARaceWithAPushServesThePush) {
  Cache cache;
  cache.InvalidateAll(1);
  ASSERT_TRUE(cache.Apply(Tally("Gauls", 6, 2), 1));
  CachedValue served = cache.Fill("team:Gauls", Tally("Gauls", 5, 1), 1);
  EXPECT_EQ(served->seq(), 6);
  EXPECT_EQ(cache.Get("team:Gauls")->seq(), 6);
}

TEST(CacheTest, RefreshReshapesAValueOfTheSameVersionButNeverGoesBack) {
  Cache cache;
  cache.InvalidateAll(1);
  cache.Fill("event:javelin", [] {
    v1::Change change;
    change.set_seq(8);
    change.mutable_event()->set_event("javelin");
    change.mutable_event()->add_points()->set_team("Gauls");
    return change;
  }(), 1);
  v1::Change grown = cache.Get("event:javelin")->change();
  grown.mutable_event()->add_points()->set_team("Britons");
  EXPECT_TRUE(cache.Refresh("event:javelin", grown));
  ASSERT_NE(cache.Get("event:javelin"), nullptr) << "still fresh";
  EXPECT_EQ(cache.Get("event:javelin")->change().event().points_size(), 2);
  v1::Change older = grown;
  older.set_seq(7);
  older.mutable_event()->mutable_points()->RemoveLast();
  EXPECT_FALSE(cache.Refresh("event:javelin", older));
  EXPECT_EQ(cache.Get("event:javelin")->change().event().points_size(), 2);
  EXPECT_FALSE(cache.Refresh("team:Gauls", Tally("Gauls", 9, 1))) << "not cached";
  EXPECT_EQ(cache.Get("team:Gauls"), nullptr);
}

// A pull after a backend restart replays the logged change of a version
// the cache already holds, in the shape it had before the games gained a
// team: the reshaped value stays.
TEST(CacheTest, AReplayedChangeOfTheSameVersionKeepsTheReshapedValue) {
  Cache cache;
  cache.InvalidateAll(1);
  v1::Change logged;
  logged.set_seq(8);
  logged.mutable_event()->set_event("javelin");
  logged.mutable_event()->add_points()->set_team("Gauls");
  ASSERT_TRUE(cache.Apply(logged, 1));
  v1::Change grown = logged;
  grown.mutable_event()->add_points()->set_team("Britons");
  ASSERT_TRUE(cache.Refresh("event:javelin", grown));
  EXPECT_FALSE(cache.Apply(logged, 1)) << "not newer";
  EXPECT_EQ(cache.Get("event:javelin")->change().event().points_size(), 2);
  cache.InvalidateAll(2);
  EXPECT_FALSE(cache.Apply(logged, 2));
  ASSERT_NE(cache.Get("event:javelin"), nullptr) << "fresh again in the new epoch";
  EXPECT_EQ(cache.Get("event:javelin")->change().event().points_size(), 2);
}

TEST(CacheTest, InvalidationKeepsVersionsAsFloors) {
  Cache cache;
  cache.InvalidateAll(1);
  cache.Fill("team:Gauls", Tally("Gauls", 8, 3), 1);
  cache.InvalidateAll(2);
  EXPECT_EQ(cache.Get("team:Gauls"), nullptr) << "stale after a master change";
  // A fill that read the backend before version 8 arrived (possible when it
  // started in epoch 1) never takes the cache back.
  CachedValue served = cache.Fill("team:Gauls", Tally("Gauls", 4, 1), 2);
  EXPECT_EQ(served->seq(), 8);
  EXPECT_EQ(cache.Get("team:Gauls")->seq(), 8);
}

TEST(CacheTest, StaleEpochPushesAndFillsAreNotFresh) {
  Cache cache;
  cache.InvalidateAll(3);
  EXPECT_FALSE(cache.Apply(Tally("Gauls", 9, 1), 2)) << "push of an old master";
  EXPECT_EQ(cache.Get("team:Gauls"), nullptr);
  CachedValue served = cache.Fill("team:Gauls", Tally("Gauls", 10, 2), 2);
  EXPECT_EQ(served->seq(), 10);  // served to the reader who asked...
  EXPECT_EQ(cache.Get("team:Gauls"), nullptr);  // ...but not cached fresh
  cache.Fill("team:Gauls", Tally("Gauls", 10, 2), 3);
  EXPECT_NE(cache.Get("team:Gauls"), nullptr);
}

TEST(CacheTest, ConcurrentFillsAndPushesNeverGoBack) {
  Cache cache;
  cache.InvalidateAll(1);
  constexpr int kVersions = 20000;
  std::thread pusher([&] {
    for (int v = 1; v <= kVersions; ++v) cache.Apply(Tally("Gauls", v, v), 1);
  });
  std::thread filler([&] {
    // Fills with lagging versions, as slow backend reads would bring.
    for (int v = 1; v <= kVersions; v += 3) cache.Fill("team:Gauls", Tally("Gauls", v, v), 1);
  });
  int64_t last = 0;
  for (int i = 0; i < kVersions; ++i) {
    if (CachedValue hit = cache.Get("team:Gauls")) {
      ASSERT_GE(hit->seq(), last) << "went back";
      last = hit->seq();
    }
  }
  pusher.join();
  filler.join();
  EXPECT_EQ(cache.Get("team:Gauls")->seq(), kVersions);
}

TEST(CacheTest, AHitCarriesItsValueSerializedAsTheReadAnswersIt) {
  Cache cache;
  cache.Fill("team:Gauls", Tally("Gauls", 5, 2), 0);
  CachedValue hit = cache.Get("team:Gauls");
  ASSERT_NE(hit, nullptr);
  v1::MedalTally answered;
  ASSERT_TRUE(answered.ParseFromString(hit->reply()));
  EXPECT_EQ(answered.team(), "Gauls");
  EXPECT_EQ(answered.gold(), 2);
  EXPECT_EQ(answered.version(), 5);
}

TEST(CacheTest, TheVersionMovesWithEveryChangeOfWhatGetAnswers) {
  Cache cache;
  uint64_t seen = cache.version();
  auto moved = [&] {
    const uint64_t now = cache.version();
    const bool changed = now != seen;
    seen = now;
    return changed;
  };
  cache.Fill("team:Gauls", Tally("Gauls", 5, 1), 0);
  EXPECT_TRUE(moved()) << "a new entry";
  cache.Fill("team:Gauls", Tally("Gauls", 5, 1), 0);
  EXPECT_FALSE(moved()) << "the same fresh value again";
  cache.Get("team:Gauls");
  cache.Get("team:Romans");
  EXPECT_FALSE(moved()) << "reads change nothing";
  ASSERT_TRUE(cache.Apply(Tally("Gauls", 6, 2), 0));
  EXPECT_TRUE(moved()) << "a newer value";
  EXPECT_FALSE(cache.Apply(Tally("Gauls", 4, 0), 0));
  EXPECT_FALSE(moved()) << "an older value is refused";
  cache.InvalidateAll(1);
  EXPECT_TRUE(moved()) << "every entry went stale";
  cache.Fill("team:Gauls", Tally("Gauls", 6, 2), 1);
  EXPECT_TRUE(moved()) << "fresh again";
  cache.Refresh("team:Gauls", Tally("Gauls", 6, 2));
  EXPECT_TRUE(moved()) << "reshaped after the games changed";
}

}  // namespace
}  // namespace podium
