// The placement rule (client/placement.h): the least-loaded live frontend,
// never a dead or avoided one, ties spread at random but reproducibly for
// a given seed.
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

}  // namespace
}  // namespace podium
