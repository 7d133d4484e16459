// PostLimiter on a clock of its own: bursts, refills, both buckets, and a
// bound on what it remembers.
#include "frontend/post_limiter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::HasSubstr;

class PostLimiterTest : public ::testing::Test {
 protected:
  PostLimiter Limiter(PostLimiterOptions options = {}) {
    return PostLimiter(options, [this] { return now_; });
  }
  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
};

TEST_F(PostLimiterTest, AnAddressPostsItsBurstThenOneEveryRefill) {
  PostLimiter limiter = Limiter({/*burst=*/3, /*refill=*/absl::Seconds(2), 1000});
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.Admit("10.0.0.1", "fan" + std::to_string(i)).ok());
  absl::Status limited = limiter.Admit("10.0.0.1", "another");
  EXPECT_EQ(limited.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(limited.message(), HasSubstr("from this address"));
  EXPECT_THAT(limited.message(), HasSubstr("try again in 2 s"));
  ASSERT_TRUE(limited.GetPayload(kRetryAfterPayload).has_value());
  EXPECT_EQ(std::string(*limited.GetPayload(kRetryAfterPayload)), "2");
  // Another address is not held back by this one.
  EXPECT_TRUE(limiter.Admit("10.0.0.2", "another").ok());
  now_ += absl::Seconds(1);
  EXPECT_EQ(limiter.Admit("10.0.0.1", "x").code(), absl::StatusCode::kResourceExhausted);
  now_ += absl::Seconds(1);
  EXPECT_TRUE(limiter.Admit("10.0.0.1", "x").ok());
  EXPECT_FALSE(limiter.Admit("10.0.0.1", "y").ok());
}

TEST_F(PostLimiterTest, AnAuthorIsLimitedFromEveryAddressIgnoringCaseAndSpaces) {
  PostLimiter limiter = Limiter({2, absl::Seconds(5), 1000});
  EXPECT_TRUE(limiter.Admit("10.0.0.1", "Chatty").ok());
  EXPECT_TRUE(limiter.Admit("10.0.0.2", "chatty").ok());
  absl::Status limited = limiter.Admit("10.0.0.3", "  CHATTY ");
  EXPECT_EQ(limited.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(limited.message(), HasSubstr("from this author"));
  // A refused post took no token from the address either.
  EXPECT_TRUE(limiter.Admit("10.0.0.3", "quiet").ok());
  EXPECT_TRUE(limiter.Admit("10.0.0.3", "quiet2").ok());
}

TEST_F(PostLimiterTest, WhatItRemembersStaysBoundedAndQuietPostersAreForgottenFirst) {
  PostLimiter limiter = Limiter({5, absl::Seconds(1), 100});
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(limiter.Admit("10.0.0." + std::to_string(i), "a" + std::to_string(i)).ok());
    EXPECT_LE(limiter.tracked(), 100u);
  }
  // Once refilled, every bucket is forgotten at the next crowding.
  now_ += absl::Seconds(10);
  EXPECT_TRUE(limiter.Admit("10.9.9.9", "late").ok());
  EXPECT_LE(limiter.tracked(), 100u);
}

}  // namespace
}  // namespace podium
