// Rate limits on fans' posts: a token bucket per client address and one
// per author, and a post must find a token in both, so neither many
// authors from one address nor one author from many addresses floods a
// board. Memory is bounded: past max_tracked buckets, those that have
// refilled (whose holders have been quiet) are forgotten.
#ifndef PODIUM_FRONTEND_POST_LIMITER_H_
#define PODIUM_FRONTEND_POST_LIMITER_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace podium {

struct PostLimiterOptions {
  int burst = 5;                             // posts at once
  absl::Duration refill = absl::Seconds(3);  // one more post per this
  size_t max_tracked = 100000;               // buckets kept at most
};

// The payload of a RESOURCE_EXHAUSTED status from Admit: whole seconds
// until a post may be accepted (HTTP's Retry-After).
inline constexpr char kRetryAfterPayload[] = "podium/retry-after-seconds";

// Thread-safe.
class PostLimiter {
 public:
  explicit PostLimiter(
      PostLimiterOptions options = {},
      std::function<absl::Time()> now = [] { return absl::Now(); });

  // Takes a token from `address`'s bucket and from `author`'s (authors
  // compared ignoring ASCII case and surrounding spaces), or neither:
  // RESOURCE_EXHAUSTED saying when to try again, with kRetryAfterPayload.
  absl::Status Admit(const std::string& address, const std::string& author);

  size_t tracked() const;

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  // `bucket` refilled up to now.
  void Refill(Bucket* bucket, absl::Time now) const;
  void ForgetFullBuckets(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PostLimiterOptions options_;
  const std::function<absl::Time()> now_;
  mutable absl::Mutex mu_;
  // "a:ADDRESS" and "n:AUTHOR".
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_POST_LIMITER_H_
