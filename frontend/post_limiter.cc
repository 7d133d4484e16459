#include "frontend/post_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace podium {

PostLimiter::PostLimiter(PostLimiterOptions options, std::function<absl::Time()> now)
    : options_(options), now_(std::move(now)) {}

void PostLimiter::Refill(Bucket* bucket, absl::Time now) const {
  const double earned = absl::FDivDuration(now - bucket->updated, options_.refill);
  bucket->tokens = std::min<double>(options_.burst, bucket->tokens + std::max(0.0, earned));
  bucket->updated = now;
}

void PostLimiter::ForgetFullBuckets(absl::Time now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(&it->second, now);
    if (it->second.tokens >= options_.burst) {
      buckets_.erase(it++);
    } else {
      ++it;
    }
  }
}

absl::Status PostLimiter::Admit(const std::string& address, const std::string& author) {
  const absl::Time now = now_();
  const std::string keys[2] = {"a:" + address,
                               "n:" + absl::AsciiStrToLower(absl::StripAsciiWhitespace(author))};
  absl::MutexLock lock(&mu_);
  if (buckets_.size() + 2 > options_.max_tracked) {
    ForgetFullBuckets(now);
    // Still full (as many posters as that at once): memory stays bounded,
    // at the price of a fresh bucket for those forgotten.
    while (!buckets_.empty() && buckets_.size() + 2 > options_.max_tracked) {
      buckets_.erase(buckets_.begin());
    }
  }
  Bucket* buckets[2];
  double wait_tokens = 0;
  // Both inserted before either is pointed at: an insertion may move them.
  for (const std::string& key : keys)
    buckets_.try_emplace(key, Bucket{double(options_.burst), now});
  for (int i = 0; i < 2; ++i) {
    buckets[i] = &buckets_.find(keys[i])->second;
    Refill(buckets[i], now);
    wait_tokens = std::max(wait_tokens, 1.0 - buckets[i]->tokens);
  }
  if (wait_tokens > 0) {
    const int64_t seconds = std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(options_.refill * wait_tokens))));
    absl::Status limited = absl::ResourceExhaustedError(
        absl::StrCat("too many posts from this ", buckets[0]->tokens < 1 ? "address" : "author",
                     " (", options_.burst, " at once, then one every ",
                     absl::FormatDuration(options_.refill), "): try again in ", seconds, " s"));
    limited.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(seconds)));
    return limited;
  }
  for (Bucket* bucket : buckets) bucket->tokens -= 1;
  return absl::OkStatus();
}

size_t PostLimiter::tracked() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

}  // namespace podium
