#include "backend/event_awards.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::HasSubstr;

v1::EventInfo Judo() {
  v1::EventInfo info;
  info.set_event("judo-73kg");
  info.set_golds(1);
  info.set_silvers(1);
  info.set_bronzes(2);
  return info;
}

v1::AwardMedalRequest Medal(v1::Medal medal, bool revoke = false) {
  v1::AwardMedalRequest request;
  request.set_team("FRA");
  request.set_event("judo-73kg");
  request.set_medal(medal);
  request.set_revoke(revoke);
  return request;
}

TEST(EventAwardsTest, AnEventAwardsAsManyOfEachMedalAsDeclaredAndNoMore) {
  EventAwards awards;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<EventAwards> next = ApplyEventAward(Judo(), awards, Medal(v1::BRONZE));
    ASSERT_TRUE(next.ok()) << next.status();
    awards = *next;
  }
  EXPECT_EQ(awards, (EventAwards{0, 0, 2}));
  absl::StatusOr<EventAwards> third = ApplyEventAward(Judo(), awards, Medal(v1::BRONZE));
  EXPECT_EQ(third.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(third.status().message(),
              HasSubstr("event 'judo-73kg' has already awarded its 2 bronze medals"));
  absl::StatusOr<EventAwards> gold = ApplyEventAward(Judo(), awards, Medal(v1::GOLD));
  ASSERT_TRUE(gold.ok());
  EXPECT_EQ(*gold, (EventAwards{1, 0, 2}));
}

TEST(EventAwardsTest, ARevocationGivesOneBackAndNeverGoesBelowZero) {
  absl::StatusOr<EventAwards> back =
      ApplyEventAward(Judo(), EventAwards{1, 1, 2}, Medal(v1::BRONZE, /*revoke=*/true));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (EventAwards{1, 1, 1}));
  absl::StatusOr<EventAwards> uncounted =
      ApplyEventAward(Judo(), EventAwards{}, Medal(v1::GOLD, /*revoke=*/true));
  ASSERT_TRUE(uncounted.ok());
  EXPECT_EQ(*uncounted, EventAwards{});
}

TEST(EventAwardsTest, CountsReadBackAsWrittenAndDamageIsDataLossNamingWhere) {
  absl::StatusOr<EventAwards> read =
      DecodeEventAwards(EncodeEventAwards(EventAwards{1, 2, 0}), "awarded/x");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, (EventAwards{1, 2, 0}));
  for (const char* bad : {"", "1,2", "1,2,3,4", "1,x,0", "1,-1,0"}) {
    absl::StatusOr<EventAwards> damaged = DecodeEventAwards(bad, "awarded/x");
    EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_THAT(damaged.status().message(), HasSubstr("awarded/x")) << bad;
  }
}

}  // namespace
}  // namespace podium
