#include "common/backoff.h"

#include <algorithm>

namespace podium {

Backoff::Backoff(absl::Duration initial, absl::Duration max, uint64_t seed)
    : initial_(initial),
      max_(max),
      current_(initial),
      rng_(seed != 0 ? seed : std::random_device{}()) {}

absl::Duration Backoff::Next() {
  std::uniform_int_distribution<int64_t> jitter(
      0, absl::ToInt64Microseconds(current_));
  absl::Duration delay = absl::Microseconds(jitter(rng_));
  current_ = std::min(current_ * 2, max_);
  return delay;
}

}  // namespace podium
