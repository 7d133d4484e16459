// The placement rule (client/placement.h): the least-loaded live frontend,
// never a dead or avoided one, ties spread at random but reproducibly for
// a given seed; after a failure, the dead frontend's clients spread so as
// to even the survivors out, though they all see the same loads.
#include "client/placement.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace podium {
namespace {

v1::ListFrontendsReply Listing(
    std::initializer_list<std::tuple<std::string, int64_t, bool>> entries) {
  v1::ListFrontendsReply reply;
  for (const auto& [address, clients, alive] : entries) {
    v1::FrontendInfo* info = reply.add_frontends();
    info->set_address(address);
    info->set_clients(clients);
    info->set_alive(alive);
    info->set_cache_mode(v1::PUSH);
  }
  return reply;
}

TEST(PlacementTest, FewestClientsWins) {
  std::mt19937_64 rng(1);
  const v1::ListFrontendsReply reply =
      Listing({{"a:1", 3, true}, {"b:1", 1, true}, {"c:1", 2, true}});
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::string> chosen = ChooseFrontend(reply.frontends(), {}, &rng);
    ASSERT_TRUE(chosen.ok()) << chosen.status();
    EXPECT_EQ(*chosen, "b:1");
  }
}

TEST(PlacementTest, DeadAndAvoidedFrontendsAreNeverChosen) {
  std::mt19937_64 rng(2);
  // The idle one is dead, the next-idlest just failed: the busy one it is.
  const v1::ListFrontendsReply reply =
      Listing({{"a:1", 0, false}, {"b:1", 1, true}, {"c:1", 7, true}});
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::string> chosen = ChooseFrontend(reply.frontends(), {"b:1"}, &rng);
    ASSERT_TRUE(chosen.ok()) << chosen.status();
    EXPECT_EQ(*chosen, "c:1");
  }
}

TEST(PlacementTest, NoLiveFrontendIsUnavailable) {
  std::mt19937_64 rng(3);
  EXPECT_EQ(ChooseFrontend(Listing({}).frontends(), {}, &rng).status().code(),
            absl::StatusCode::kUnavailable);
  const v1::ListFrontendsReply reply = Listing({{"a:1", 0, false}, {"b:1", 0, true}});
  EXPECT_EQ(ChooseFrontend(reply.frontends(), {"b:1"}, &rng).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(PlacementTest, TiesAreSpreadAndReproducibleForASeed) {
  const v1::ListFrontendsReply reply =
      Listing({{"a:1", 2, true}, {"b:1", 2, true}, {"c:1", 2, true}, {"d:1", 5, true}});
  std::mt19937_64 rng(42);
  std::mt19937_64 same(42);
  std::map<std::string, int> chosen;
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<std::string> one = ChooseFrontend(reply.frontends(), {}, &rng);
    absl::StatusOr<std::string> again = ChooseFrontend(reply.frontends(), {}, &same);
    ASSERT_TRUE(one.ok() && again.ok());
    EXPECT_EQ(*one, *again);
    ++chosen[*one];
  }
  EXPECT_EQ(chosen.count("d:1"), 0u);
  // Each of the three tied ones, about 100 times in 300.
  for (const char* address : {"a:1", "b:1", "c:1"}) {
    EXPECT_GT(chosen[address], 50) << address;
  }
}

// How many of `draws` failovers from `failed` go to each frontend.
std::map<std::string, int> Spread(const v1::ListFrontendsReply& reply, const std::string& failed,
                                  int draws, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, int> chosen;
  for (int i = 0; i < draws; ++i) {
    absl::StatusOr<std::string> to =
        ChooseFrontendAfterFailure(reply.frontends(), failed, {failed}, &rng);
    EXPECT_TRUE(to.ok()) << to.status();
    if (to.ok()) ++chosen[*to];
  }
  return chosen;
}

TEST(PlacementTest, ADeadFrontendsClientsSpreadOverSurvivorsThatLookAlmostEquallyLoaded) {
  // The least-loaded rule would send all 1,000 to c:1 (4 < 5): every
  // client of a:1 sees these same heartbeat-old numbers.
  const v1::ListFrontendsReply reply =
      Listing({{"a:1", 1000, true}, {"b:1", 5, true}, {"c:1", 4, true}});
  std::map<std::string, int> chosen = Spread(reply, "a:1", 1000, 7);
  EXPECT_EQ(chosen.count("a:1"), 0u);
  // Filling both to (1000 + 9) / 2: b:1 weighs 499.5, c:1 500.5.
  EXPECT_GT(chosen["b:1"], 400);
  EXPECT_GT(chosen["c:1"], 400);
}

TEST(PlacementTest, ADeadFrontendsLastReportedClientsAreTheOnesToSpread) {
  // Listed dead, a:1 serves none now; it reported 200 before it died.
  v1::ListFrontendsReply reply = Listing({{"a:1", 0, false}, {"b:1", 7, true}, {"c:1", 3, true}});
  reply.mutable_frontends(0)->set_last_clients(200);
  std::map<std::string, int> chosen = Spread(reply, "a:1", 1000, 5);
  // The level is 105: b:1 weighs 98, c:1 102.
  EXPECT_GT(chosen["b:1"], 400);
  EXPECT_GT(chosen["c:1"], 400);
}

TEST(PlacementTest, ADeadFrontendsClientsFillTheLeastLoadedSurvivorFirst) {
  // 60 arriving over survivors at 0 and 40: the level is 50, so b:1 takes
  // 50 of each 60 in expectation and c:1 10; a survivor above the level
  // (d:1 at 70) takes none.
  const v1::ListFrontendsReply reply =
      Listing({{"a:1", 60, false}, {"b:1", 0, true}, {"c:1", 40, true}, {"d:1", 70, true}});
  std::map<std::string, int> chosen = Spread(reply, "a:1", 1200, 11);
  EXPECT_EQ(chosen.count("d:1"), 0u);
  EXPECT_GT(chosen["b:1"], 900);  // about 1,000
  EXPECT_GT(chosen["c:1"], 100);  // about 200
  EXPECT_LT(chosen["c:1"], 320);
}

TEST(PlacementTest, AFailoverWithNothingToSpreadGoesToTheLeastLoaded) {
  // The failed frontend is not listed: one client's worth to place.
  const v1::ListFrontendsReply reply =
      Listing({{"b:1", 3, true}, {"c:1", 1, true}, {"d:1", 2, true}});
  std::map<std::string, int> chosen = Spread(reply, "a:1", 100, 13);
  EXPECT_EQ(chosen["c:1"], 100);
  const v1::ListFrontendsReply none = Listing({{"a:1", 9, true}, {"b:1", 0, false}});
  std::mt19937_64 rng(1);
  EXPECT_EQ(ChooseFrontendAfterFailure(none.frontends(), "a:1", {"a:1"}, &rng).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace podium
